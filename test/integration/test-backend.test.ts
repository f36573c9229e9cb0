/**
 * Adding a target type is one backend behind the registry: a small test-only backend ("switch":
 * faults flip named switches in an in-memory world) is registered beside the real ones, and an
 * experiment runs through it — driver created, fault journaled before it is applied, what it
 * touched counted, removed, verified gone — and `recover` removes a journaled leftover of it
 * from its location alone. Nothing in the runner or in recover knows the type.
 *
 * The "switch" type is not in the experiment schema (the model is the single source of the
 * types users write), so the plan is built directly and the new type is cast in once, here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { FaultDriver } from '../../src/backends/driver.js';
import { BACKENDS, type BackendRegistry } from '../../src/backends/registry.js';
import type { PlannedFault } from '../../src/backends/planned-fault.js';
import { writeJournal, type Journal } from '../../src/journal/journal.js';
import type { RunPlan } from '../../src/run-plan/plan.js';
import { runExperiment } from '../../src/runner/runner.js';
import { recover } from '../../src/safety/recover.js';

interface SwitchLocation {
  backend: 'switch';
  target: string;
  name: string;
}

/** The world the switch backend acts on: the switches that are on, and how often each was hit. */
const world = { on: new Set<string>(), hits: new Map<string, number>() };

class SwitchDriver implements FaultDriver<SwitchLocation> {
  readonly description = 'in-memory switches';
  constructor(readonly target: string) {}
  async prepare(): Promise<void> {}
  locate(fault: PlannedFault): SwitchLocation {
    return { backend: 'switch', target: this.target, name: fault.name };
  }
  async apply(fault: PlannedFault): Promise<void> {
    world.on.add(fault.name);
    world.hits.set(fault.name, 3);
  }
  async touched(
    location: SwitchLocation,
  ): Promise<{ connections: number; bytes: number; requests: number }> {
    return { connections: 0, bytes: 0, requests: world.hits.get(location.name) ?? 0 };
  }
  async remove(location: SwitchLocation): Promise<void> {
    world.on.delete(location.name);
  }
  async isGone(location: SwitchLocation): Promise<boolean> {
    return !world.on.has(location.name);
  }
  async dispose(): Promise<void> {}
}

const switchBackend = {
  type: 'switch',
  faults: ['latency'],
  declare: 'a switch target',
  lives: 'outside',
  planFault: () => [],
  createDriver: (name: string) => new SwitchDriver(name),
  recover: async (location: SwitchLocation) => {
    world.on.delete(location.name);
  },
} satisfies Pick<Backend<'proxy'>, 'declare' | 'lives' | 'planFault'> & Record<string, unknown>;

// The one cast: a target type the schema does not know.
const registry = { ...BACKENDS, switch: switchBackend } as unknown as BackendRegistry;

const dir = mkdtempSync(join(tmpdir(), 'faultline-test-backend-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function plan(): RunPlan {
  const fault: PlannedFault = {
    kind: 'fault',
    name: 'flip',
    target: 'lights',
    effect: {
      type: 'local',
      fault: { fault: 'latency', target: 'lights', delay: '1ms', duration: '50ms' } as never,
    },
    durationMs: 50,
    describe: 'flip the lights for 50 ms',
    source: {},
  };
  return {
    title: 'a test-only backend',
    description: undefined,
    tags: [],
    environment: undefined,
    format: 'faultline',
    file: 'switch.yaml',
    experiment: {},
    targets: { lights: { type: 'switch' } as never },
    hypothesis: [],
    method: [fault],
    rollbacks: [],
    strategies: { rollbacks: 'default', hypothesis: 'default', frequencyMs: 1000, failFast: false },
    maxDurationMs: 10_000,
  };
}

test('an experiment runs through a backend registered beside the real ones', async () => {
  let seenOn = false;
  const journal = await runExperiment(plan(), {
    journalPath: join(dir, 'run.json'),
    backends: registry,
    onEvent: (event) => {
      if (event.type === 'fault-applied') seenOn = world.on.has('flip');
    },
  });
  assert.equal(seenOn, true, 'the fault was on while applied');
  const fault = journal.faultline.faults[0]!;
  assert.deepEqual(fault.location, { backend: 'switch', target: 'lights', name: 'flip' });
  assert.equal(fault.state, 'removed', journal.faultline.reason);
  assert.equal(fault.touched?.requests, 3, 'what it touched is counted through the backend');
  assert.deepEqual(journal.faultline.verification, [{ fault: 'flip', gone: true }]);
  assert.equal(world.on.size, 0);
  assert.equal(journal.faultline.outcome, 'held', journal.faultline.reason);
});

test('recover removes a journaled leftover through the same registry', async () => {
  world.on.add('left');
  const journal = {
    'faultline-version': 'test',
    platform: 'test',
    node: process.version,
    experiment: {},
    start: new Date().toISOString(),
    status: 'running',
    deviated: false,
    steady_states: { before: null, after: null, during: [] },
    run: [],
    rollbacks: [],
    faultline: {
      run_id: 'dead-run',
      pid: 2 ** 22 + 1, // above pid_max: no such process
      file: 'switch.yaml',
      format: 'faultline',
      strategies: {
        rollbacks: 'default',
        hypothesis: 'default',
        frequency_ms: 1000,
        fail_fast: false,
      },
      max_duration_ms: 10_000,
      faults: [
        {
          name: 'left',
          target: 'lights',
          describe: 'left on',
          location: { backend: 'switch', target: 'lights', name: 'left' } as never,
          state: 'applied',
        },
      ],
    },
  } satisfies Journal;
  const state = join(dir, 'state');
  writeJournal(join(state, 'dead.json'), journal);
  const results = await recover(state, { backends: registry });
  assert.deepEqual(
    results.map((r) => [r.fault, r.result]),
    [['left', 'removed']],
  );
  assert.equal(world.on.has('left'), false);
});
