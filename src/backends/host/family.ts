/**
 * The resources fault family (src/backends/local/family.ts): cpu-stress, memory-stress and
 * disk-fill on `host` targets, each held by an agent process that dies with its lease
 * (./driver.ts). `recover` stops the agent by tag (its threads and memory go with it; a disk
 * agent deletes its file on the way out) and then deletes the journaled fill file itself, in
 * case the agent was SIGKILLed before it could.
 */
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HostLocation } from '../location.js';
import { stopAgents } from '../local/agent.js';
import type { LocalFamily } from '../local/family.js';

export const resourcesFamily: LocalFamily<HostLocation> = {
  async recover(location: HostLocation, signal: AbortSignal | undefined) {
    if (location.tag) await stopAgents(location.tag, { graceMs: 5_000, signal });
    const file = location.handle.file;
    // Only ever a file faultline named: the tag is in its name.
    if (file && location.tag && basename(file) === `.faultline-fill-${location.tag}`)
      await rm(file, { force: true });
  },
};
