/**
 * `remote-proxy` targets: a proxy on a faultline (`faultline proxy serve`) or Toxiproxy server,
 * driven through its HTTP API. Its faults outlive the runner, each with the server's lease, and
 * are removed through the same API by the runner, `faultline halt` and `faultline recover`.
 */
import { ProxyApiClient } from '../../engines/proxy/api/client.js';
import type { Backend } from '../backend.js';
import { PROXY_DIRECTION_HINT, PROXY_FAULTS, proxyModeIssues } from '../proxy/backend.js';
import { planProxyFault } from '../proxy/plan-fault.js';
import { RemoteProxyDriver, removeRemoteFault } from './driver.js';

export const remoteProxyBackend: Backend<'remote-proxy'> = {
  type: 'remote-proxy',
  faults: PROXY_FAULTS,
  declare: 'a remote-proxy target',
  lives: 'outside',
  directionHint: PROXY_DIRECTION_HINT,
  // The server's mode is not known at load time: only what a fault itself makes impossible.
  stepIssues: (check) => proxyModeIssues(check, undefined),
  planFault: (fault, index) => planProxyFault(fault, index),
  createDriver: (name, spec) => new RemoteProxyDriver(name, spec),
  recover: (location, { token, signal }) =>
    removeRemoteFault(
      new ProxyApiClient({ url: location.server, token, timeoutMs: 5_000 }),
      location,
      signal,
    ),
};
