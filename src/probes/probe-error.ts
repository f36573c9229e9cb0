/**
 * A probe or action could not produce an answer (connection refused, timeout, missing
 * executable). Distinct from an answer that fails its expectation: the journal records both,
 * and a probe that could not run makes a hypothesis *not met* rather than crashing the run.
 */
import { ExitCode, FaultlineError, type FaultlineErrorOptions } from '../errors.js';

export class ProbeError extends FaultlineError {
  constructor(message: string, options?: FaultlineErrorOptions) {
    super('E_PROBE', message, 502, ExitCode.inconclusive, options);
  }
}
