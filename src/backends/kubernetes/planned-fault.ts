/**
 * A fault on a kubernetes target as the runner plans it: the fault itself travels in the plan
 * (`effect.type: 'kubernetes'`) and the Kubernetes driver turns it into a Chaos Mesh object at
 * apply time, when it knows the run id its labels carry.
 */
import { formatDuration, parseDuration } from '../../experiment/duration.js';
import type { Fault, Target } from '../../experiment/schema.js';
import type { PlannedFault } from '../planned-fault.js';
import { describeChaos, faultName, translateFault } from './chaos-mesh.js';

export function planKubernetesFault(
  fault: Fault,
  index: number,
  targets: Record<string, Target>,
): PlannedFault {
  const durationMs = parseDuration(fault.duration) ?? 0;
  const { chaos } = translateFault(fault, `method[${index}]`, targets);
  const what = chaos ? describeChaos(chaos) : `${fault.fault} on ${fault.target}`;
  return {
    kind: 'fault',
    name: faultName(fault, index),
    target: fault.target,
    effect: { type: 'kubernetes', fault },
    durationMs,
    describe: `${fault.fault}: ${what} for ${formatDuration(durationMs)}`,
    source: fault,
  };
}
