/**
 * The resources fault family (src/faults/local/family.ts): cpu-stress, memory-stress and
 * disk-fill on `host` targets, each held by an agent process that dies with its lease
 * (./driver.ts). `recover` stops the agent by tag (its threads and memory go with it; a disk
 * agent deletes its file on the way out) and then deletes the journaled fill file itself, in
 * case the agent was SIGKILLed before it could.
 */
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { FaultError } from '../../errors.js';
import type { FaultLocation } from '../../targets/fault-driver.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';
import { HostFaultDriver, type HostHandle } from './driver.js';

export const resourcesFamily: LocalFamily = {
  name: 'resources',
  targetTypes: ['host'],
  createDriver(name, spec, context) {
    if (spec.type !== 'host') throw new FaultError(`the resources family does not drive ${spec.type} targets`);
    return new HostFaultDriver(name, spec, resourcesFamily, context);
  },
  async recover(location: FaultLocation, signal: AbortSignal | undefined) {
    if (location.tag) await stopAgents(location.tag, { graceMs: 5_000, signal });
    const file = (location.handle as HostHandle | undefined)?.file;
    // Only ever a file faultline named: the tag is in its name.
    if (file && location.tag && basename(file) === `.faultline-fill-${location.tag}`) await rm(file, { force: true });
  },
};
