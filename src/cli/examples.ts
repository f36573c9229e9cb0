/**
 * The Examples section of every `--help`: a few real commands per command, in one table so that
 * test/integration/cli-help-examples.test.ts can check that every command has some and that
 * each one names a real command with options it takes (no example drifts from the flags).
 */
import type { Command } from 'commander';

/** Command path (`proxy toxic add`) → example command lines, each followed by what it does. */
export const EXAMPLES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  '': [
    ['faultline demo', 'see it work in a minute: a service, a database, a fault and a verdict'],
    ['faultline run --dry-run examples/postgres-latency.yaml', 'what an experiment would do'],
    ['faultline proxy serve', 'a Toxiproxy-compatible fault proxy'],
  ],
  demo: [
    [
      'faultline demo',
      'the payment service under 300 ms of database latency, fragile then resilient',
    ],
    ['faultline demo --scenario redis-outage', 'the session cache goes down'],
  ],
  proxy: [
    ['faultline proxy serve', 'a Toxiproxy-compatible server on 127.0.0.1:8474'],
    ['faultline proxy list', 'the proxies of the server at $TOXIPROXY_URL (or 127.0.0.1:8474)'],
  ],
  'proxy serve': [
    ['faultline proxy serve', 'the API on 127.0.0.1:8474, as toxiproxy-server'],
    [
      'faultline proxy serve --port 0 --config proxies.json',
      'any free port; proxies created at start',
    ],
  ],
  'proxy list': [
    ['faultline proxy list', 'name, listen, upstream, enabled and toxics of every proxy'],
    ['faultline proxy list --host http://10.0.0.5:8474 --json', "another server's proxies as JSON"],
  ],
  'proxy inspect': [['faultline proxy inspect postgres_proxy', 'one proxy and its toxics']],
  'proxy create': [
    [
      'faultline proxy create -l 127.0.0.1:25432 -u 127.0.0.1:5432 postgres_proxy',
      'connections to 25432 go to PostgreSQL on 5432',
    ],
  ],
  'proxy delete': [['faultline proxy delete postgres_proxy', 'the proxy and its toxics']],
  'proxy toggle': [
    ['faultline proxy toggle postgres_proxy', 'down (connections refused), or up again'],
  ],
  'proxy toxic': [
    ['faultline proxy toxic add -t latency -a latency=30000 postgres_proxy', 'replies 30 s late'],
    ['faultline proxy toxic remove -n latency_downstream postgres_proxy', 'and gone again'],
  ],
  'proxy toxic add': [
    [
      'faultline proxy toxic add -t latency -a latency=300 -a jitter=50 postgres_proxy',
      'replies 300 ± 50 ms late',
    ],
    [
      'faultline proxy toxic add -t timeout -a timeout=0 --upstream --toxicity 0.5 postgres_proxy',
      'half the connections hang',
    ],
  ],
  'proxy toxic update': [
    [
      'faultline proxy toxic update -n latency_downstream -a latency=500 postgres_proxy',
      'more latency',
    ],
  ],
  'proxy toxic remove': [
    ['faultline proxy toxic remove -n latency_downstream postgres_proxy', 'the toxic is gone'],
  ],
  dns: [
    ['faultline dns serve --record api.internal=127.0.0.1', 'a resolver with one fixed answer'],
  ],
  'dns serve': [
    ['faultline dns serve', 'a resolver on 127.0.0.1:5353 that forwards to the system resolver'],
    [
      'faultline dns serve --listen 127.0.0.1:5354 --record api.internal=127.0.0.1',
      'one fixed answer',
    ],
  ],
  run: [
    [
      'faultline run --dry-run examples/postgres-latency.yaml',
      'what the run would do; nothing applied',
    ],
    [
      'faultline run examples/postgres-latency.yaml --report report.html',
      'run it, then an HTML report',
    ],
    [
      'faultline run payments.yaml --target kubernetes --context staging',
      'faults through Chaos Mesh',
    ],
  ],
  halt: [
    ['faultline halt', 'remove every fault of every run on this machine, now'],
    ['faultline halt --wait 2s', 'runners get 2 s to stop before SIGKILL'],
  ],
  recover: [
    ['faultline recover', 'remove what crashed or interrupted runs left behind'],
    ['faultline recover --kubernetes --context staging', 'chaos objects on the cluster too'],
  ],
  load: [
    [
      'faultline load http://127.0.0.1:3000/health --rate 200/s --duration 30s',
      'open model: 200 requests a second',
    ],
    [
      'faultline load http://127.0.0.1:3000/health --concurrency 10 --duration 10s',
      'closed model: 10 loops',
    ],
  ],
  validate: [
    [
      'faultline validate examples/postgres-latency.yaml',
      'every problem, located, without running',
    ],
    [
      'faultline validate experiments/*.yaml --var paymentUrl=http://127.0.0.1:3000',
      'many files at once',
    ],
  ],
  schema: [
    [
      'faultline schema > experiment.schema.json',
      'the JSON Schema of experiment files, for editors',
    ],
    ['faultline schema --architecture', "the schema of faultline plan's architecture files"],
  ],
  compile: [
    ['faultline compile payments.yaml --platform chaos-mesh', 'Chaos Mesh manifests on stdout'],
    [
      'faultline compile payments.yaml --platform istio --out-dir manifests/',
      'one file per VirtualService',
    ],
  ],
  report: [
    ['faultline report faultline-journal.json --html report.html', 'a self-contained HTML report'],
    ['faultline report --summary journals/ --fail-under 80', 'resilience score per service'],
  ],
  plan: [
    ['faultline plan examples/architectures/fintech.yaml', 'the ranked failure catalogue'],
    [
      'faultline plan examples/architectures/fintech.yaml --out-dir chaos/',
      'and experiments, compose, CI',
    ],
  ],
  gameday: [
    ['faultline gameday init gameday.yaml', 'a commented plan to start from'],
    [
      'faultline gameday examples/gameday/payment-db-latency.yaml --ui',
      'run it with the control room',
    ],
  ],
  'gameday init': [
    ['faultline gameday init', 'writes gameday.yaml'],
    ['faultline gameday init payments-day.yaml --force', 'another name, overwriting it'],
  ],
  schedule: [
    ['faultline schedule examples/schedule/weekday-chaos.yaml', 'leashed: logs what would run'],
    ['faultline schedule examples/schedule/weekday-chaos.yaml --unleash', 'runs the experiments'],
    [
      'faultline schedule examples/schedule/weekday-chaos.yaml --platform kubernetes',
      'Chaos Mesh Schedules',
    ],
  ],
  'schedule status': [
    ['faultline schedule status', 'what runs now and the last 20 runs'],
    ['faultline schedule status --last 5', 'the last 5'],
  ],
};

/** The path of a command below the program: `proxy toxic add` (the program itself: ''). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c = command; c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Appends the Examples section to every command of `program` that has examples. */
export function addExamples(program: Command): void {
  const visit = (command: Command): void => {
    const examples = EXAMPLES[commandPath(command)];
    if (examples) {
      // kubectl's layout: what it does as a comment, then the command, ready to copy.
      const text = examples.map(([line, what]) => `  # ${what}\n  ${line}`).join('\n\n');
      command.addHelpText('after', `\nExamples:\n${text}`);
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}
