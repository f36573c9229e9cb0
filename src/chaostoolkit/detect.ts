/**
 * Which format an experiment document is in.
 *
 * Chaos Toolkit: `steady-state-hypothesis`, activities with `type`/`provider`/`ref`, or the
 * legacy pre-1.0 shapes. faultline: `steadyState`, `targets`, `safety`, `environment`, and steps
 * keyed `fault`/`wait`/`probe`/`action`. A document with neither kind of marker and no `method`
 * (`{}`, `{title}`) is treated as Chaos Toolkit, whose messages for it are the more specific;
 * one with a method of no recognisable step is faultline's.
 */
const FAULTLINE_MARKERS = ['steadyState', 'targets', 'safety', 'environment', '$schema'];
const CTK_MARKERS = [
  'steady-state-hypothesis',
  'contributions',
  'extensions',
  'controls',
  'version',
];
const FAULTLINE_STEP_KEYS = ['fault', 'wait', 'probe', 'action'];

export function isChaosToolkitDocument(data: unknown): boolean {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const doc = data as Record<string, unknown>;
  if (FAULTLINE_MARKERS.some((k) => k in doc)) return false;
  if (CTK_MARKERS.some((k) => k in doc)) return true;
  // Chaos Toolkit writes env values as {type: env, key} and groups secrets in scopes;
  // faultline writes {env: VAR} and keeps secrets flat.
  const values = (v: unknown): unknown[] =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v) : [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  if (values(doc['configuration']).some((v) => isObject(v) && 'type' in v)) return true;
  if (values(doc['secrets']).some((v) => isObject(v) && !('env' in v))) return true;
  const steps = [
    ...(Array.isArray(doc['method']) ? (doc['method'] as unknown[]) : []),
    ...(Array.isArray(doc['rollbacks']) ? (doc['rollbacks'] as unknown[]) : []),
  ];
  const objects = steps.filter(
    (s): s is Record<string, unknown> => !!s && typeof s === 'object' && !Array.isArray(s),
  );
  if (objects.some((s) => FAULTLINE_STEP_KEYS.some((k) => k in s))) return false;
  if (objects.some((s) => 'provider' in s || 'ref' in s || 'type' in s)) return true;
  return !('method' in doc);
}
