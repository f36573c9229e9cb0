/**
 * Chaos Toolkit's settings file (`chaos --settings FILE`, default ~/.chaostoolkit/settings.yaml
 * for chaos; faultline reads one only when `--settings` names it). What faultline takes from it:
 * `auths`, an `Authorization` header for http providers by `host[:port]` (`type` bearer, basic
 * or digest, as Chaos Toolkit sends `TYPE VALUE`); global `controls` and `notifications` are
 * reported as not run / not sent, one warning each, rather than ignored.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ChaosToolkitSettings {
  /** `host:port` (or `host`) → the Authorization header's value. */
  auths: Record<string, string>;
  warnings: string[];
}

export async function readChaosToolkitSettings(path: string): Promise<ChaosToolkitSettings> {
  let data: unknown;
  try {
    data = parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'no such file' : ((err as Error).message.split('\n')[0] ?? 'invalid');
    throw new ValidationError(`--settings ${path}: ${message}`, [
      { path: '', file: path, message },
    ]);
  }
  const settings: ChaosToolkitSettings = { auths: {}, warnings: [] };
  if (data === null || data === undefined) return settings;
  const issues: ValidationIssue[] = [];
  if (!isObj(data)) {
    throw new ValidationError(`--settings ${path}: expected a mapping`, [
      { path: '', file: path, message: 'expected a mapping (auths, controls, notifications)' },
    ]);
  }
  if (isObj(data['auths']))
    for (const [host, auth] of Object.entries(data['auths'])) {
      if (!isObj(auth) || typeof auth['value'] !== 'string' || typeof auth['type'] !== 'string') {
        issues.push({
          path: `auths.${host}`,
          file: path,
          message: 'expected {type, value}',
          hint: 'e.g. type: bearer, value: TOKEN',
        });
        continue;
      }
      const type = auth['type'].toLowerCase();
      settings.auths[host] = `${type.charAt(0).toUpperCase()}${type.slice(1)} ${auth['value']}`;
    }
  if (isObj(data['controls']))
    for (const name of Object.keys(data['controls']))
      settings.warnings.push(
        `settings control "${name}" is not run: faultline does not run Chaos Toolkit controls`,
      );
  if (Array.isArray(data['notifications']) && data['notifications'].length > 0)
    settings.warnings.push(
      `${data['notifications'].length} settings notification channel(s) are not sent: use faultline's --junit/--md/--report outputs or the metrics endpoint`,
    );
  if (issues.length > 0)
    throw new ValidationError(`${issues.length} problem(s) in ${path}`, issues);
  return settings;
}

/** The Authorization value for a URL, by `host:port` then `host`. */
export function authFor(auths: Readonly<Record<string, string>>, url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return auths[`${u.hostname}:${port}`] ?? auths[u.hostname];
}
