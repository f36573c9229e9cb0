/**
 * A fault step on a proxy target (in-process or remote) → the toxics that realise it: one per
 * direction (`stream: both` gives two), durations in milliseconds, percentages as toxicity, in
 * the units Toxiproxy's API takes.
 */
import { UsageError } from '../../errors.js';
import {
  formatDuration,
  parseDuration,
  parsePercentage,
  parseRate,
} from '../../experiment/duration.js';
import type { Fault } from '../../experiment/schema.js';
import type { UntypedToxicSpec } from '../../engines/proxy/toxic-entry.js';
import type { PlannedFault } from '../planned-fault.js';

const ms = (duration: string | undefined, fallback = 0): number =>
  duration === undefined ? fallback : (parseDuration(duration) ?? fallback);

/** One fault step → one planned fault per direction (`stream: both` gives two). */
// eslint-disable-next-line max-lines-per-function -- one flat case per fault type, each naming its toxic and attributes; the helpers above the switch share its closure
export function planProxyFault(fault: Fault, index: number): PlannedFault[] {
  const name = fault.name ?? `${fault.fault}-${index + 1}`;
  const durationMs = ms(fault.duration);
  const toxicity = fault.percentage === undefined ? 1 : (parsePercentage(fault.percentage) ?? 1);
  const share =
    toxicity < 1
      ? ` on ${String(fault.percentage)} of ${fault.fault.startsWith('http') ? 'requests' : 'connections'}`
      : '';
  const base = { kind: 'fault' as const, target: fault.target, durationMs, source: fault };
  const until = ` for ${formatDuration(durationMs)}`;

  if (fault.fault === 'disable') {
    return [
      {
        ...base,
        name,
        effect: { type: 'disable' },
        describe: `take ${fault.target} down (connections refused)${until}`,
      },
    ];
  }
  const toxic = (
    type: string,
    attributes: Record<string, unknown>,
    what: string,
    stream?: 'upstream' | 'downstream',
  ): PlannedFault => {
    const spec: UntypedToxicSpec & { name: string } = { name, type, toxicity, attributes };
    if (stream) spec.stream = stream;
    return {
      ...base,
      name: spec.name,
      effect: { type: 'toxic', toxic: spec },
      describe: `${what} on ${fault.target}${stream ? ` (${stream})` : ''}${share}${until}`,
    };
  };
  const streamed = (
    type: string,
    attributes: Record<string, unknown>,
    what: string,
  ): PlannedFault[] => {
    const stream = 'stream' in fault ? fault.stream : 'downstream';
    if (stream !== 'both') return [toxic(type, attributes, what, stream)];
    const down = toxic(type, attributes, what, 'downstream');
    const up = toxic(type, attributes, what, 'upstream');
    up.name = `${name}.upstream`;
    if (up.effect.type === 'toxic') up.effect.toxic.name = up.name;
    return [down, up];
  };
  const matchers = (
    match:
      | {
          method?: string | undefined;
          pathPrefix?: string | undefined;
          pathRegex?: string | undefined;
          headers?: Record<string, string> | undefined;
        }
      | undefined,
  ): Record<string, unknown> => ({
    ...(match?.method ? { method: match.method } : {}),
    ...(match?.pathPrefix ? { path_prefix: match.pathPrefix } : {}),
    ...(match?.pathRegex ? { path_regex: match.pathRegex } : {}),
    ...(match?.headers ? { headers: match.headers } : {}),
  });

  switch (fault.fault) {
    case 'latency':
      return streamed(
        'latency',
        { latency: Math.round(ms(fault.delay)), jitter: Math.round(ms(fault.jitter)) },
        `latency ${fault.delay}${fault.jitter ? ` ± ${fault.jitter}` : ''}`,
      );
    case 'bandwidth': {
      const kbps = Math.max(0, Math.round((parseRate(fault.rate) ?? 0) / 1000));
      return streamed('bandwidth', { rate: kbps }, `bandwidth capped at ${fault.rate}`);
    }
    case 'timeout':
      return streamed(
        'timeout',
        { timeout: Math.round(ms(fault.after)) },
        fault.after ? `silence, then close after ${fault.after}` : 'silence (data dropped)',
      );
    case 'reset-peer':
      return streamed(
        'reset_peer',
        { timeout: Math.round(ms(fault.after)) },
        'connection reset (RST)',
      );
    case 'slow-close':
      return streamed(
        'slow_close',
        { delay: Math.round(ms(fault.delay)) },
        `close delayed ${fault.delay}`,
      );
    case 'slicer':
      return streamed(
        'slicer',
        {
          average_size: fault.averageSize,
          size_variation: fault.sizeVariation,
          delay: Math.round(ms(fault.delay) * 1000),
        },
        `data sliced into ~${fault.averageSize} B pieces`,
      );
    case 'limit-data':
      return streamed(
        'limit_data',
        { bytes: fault.bytes },
        `connections cut after ${fault.bytes} bytes`,
      );
    case 'connect-delay':
      return [
        toxic(
          'connect_delay',
          { delay: Math.round(ms(fault.delay)) },
          `new connections delayed ${fault.delay}`,
        ),
      ];
    case 'refuse':
      return [toxic('refuse', {}, 'new connections reset')];
    case 'blackhole':
      return [toxic('blackhole', {}, 'new connections blackholed (never answered)')];
    case 'http-abort':
      return [
        toxic(
          'http_abort',
          {
            status: fault.status,
            ...(fault.body !== undefined ? { body: fault.body } : {}),
            ...matchers(fault.match),
          },
          `HTTP ${fault.status} answered to ${describeMatch(fault.match)}`,
        ),
      ];
    case 'http-delay':
      return [
        toxic(
          'http_delay',
          { delay: Math.round(ms(fault.delay)), ...matchers(fault.match) },
          `${describeMatch(fault.match)} delayed ${fault.delay}`,
        ),
      ];
    case 'certificate':
      return [
        {
          ...base,
          name,
          effect: { type: 'certificate', problem: fault.problem },
          describe: `${fault.problem} certificate presented by ${fault.target} to new TLS connections${until}`,
        },
      ];
    case 'packet-loss':
    case 'duplicate':
    case 'corrupt':
    case 'partition':
    case 'pod-kill':
    case 'pod-failure':
    case 'container-kill':
    case 'cpu-stress':
    case 'memory-stress':
    case 'io-latency':
    case 'io-error':
    case 'dns-error':
    case 'clock-skew':
    case 'http-replace':
    case 'pause-process':
    case 'kill-process':
    case 'restart-process':
    case 'disk-fill':
    case 'pg-slow-queries':
    case 'pg-pool-exhaustion':
    case 'pg-lock':
    case 'pg-terminate':
    case 'redis-pause':
    case 'redis-kill-clients':
    case 'redis-maxmemory':
    case 'rabbitmq-close-connections':
    case 'rabbitmq-memory-alarm':
    case 'dns-delay':
      // The loader refuses these on proxy targets (src/backends/registry.ts: each backend lists its fault types); a plan built
      // some other way still gets a usage error, not a silent no-op.
      throw new UsageError(
        `${fault.fault} cannot be applied through a proxy (target "${fault.target}")`,
        { hint: `${fault.fault} needs a kubernetes target` },
      );
  }
}

function describeMatch(
  match:
    | {
        method?: string | undefined;
        pathPrefix?: string | undefined;
        pathRegex?: string | undefined;
        headers?: Record<string, string> | undefined;
      }
    | undefined,
): string {
  if (!match) return 'every request';
  const parts = [match.method ? match.method.toUpperCase() : 'requests'];
  if (match.pathPrefix) parts.push(`${match.pathPrefix}*`);
  if (match.pathRegex) parts.push(`/${match.pathRegex}/`);
  if (match.headers)
    parts.push(
      `with ${Object.entries(match.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
  return parts.join(' ');
}
