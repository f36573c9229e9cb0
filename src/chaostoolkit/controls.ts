/**
 * Chaos Toolkit controls (`controls:` at the experiment, the hypothesis or an activity) are
 * Python hooks around each step. faultline does not run them yet; it says so for each one, by
 * where it is and what it would have loaded, instead of skipping them without a word: a control
 * can guard a dangerous action (a confirmation prompt, a safeguard), and a user must know it is
 * not there.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function describeControls(controls: unknown, where: string): string[] {
  if (!Array.isArray(controls)) return [];
  return controls.map((c, i) => {
    const provider = isObj(c) && isObj(c['provider']) ? c['provider'] : {};
    const name = isObj(c) && typeof c['name'] === 'string' ? c['name'] : `#${i + 1}`;
    const module = typeof provider['module'] === 'string' ? ` (${provider['module']})` : '';
    return `${where}: control "${name}"${module} is not run: faultline does not run Chaos Toolkit controls; run the experiment with chaos if the control guards a step`;
  });
}

/** One warning per control in the document. */
export function controlWarnings(data: unknown): string[] {
  if (!isObj(data)) return [];
  const warnings = describeControls(data['controls'], 'controls');
  const hypothesis = data['steady-state-hypothesis'];
  if (isObj(hypothesis)) {
    warnings.push(...describeControls(hypothesis['controls'], 'steady-state-hypothesis.controls'));
    if (Array.isArray(hypothesis['probes']))
      hypothesis['probes'].forEach((p, i) => {
        if (isObj(p))
          warnings.push(
            ...describeControls(p['controls'], `steady-state-hypothesis.probes[${i}].controls`),
          );
      });
  }
  for (const list of ['method', 'rollbacks'] as const) {
    const steps = data[list];
    if (Array.isArray(steps))
      steps.forEach((a, i) => {
        if (isObj(a)) warnings.push(...describeControls(a['controls'], `${list}[${i}].controls`));
      });
  }
  return warnings;
}
