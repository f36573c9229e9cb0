/**
 * The node's memory high watermark: read (rabbitmqctl status), lowered to a fraction so small
 * that the memory alarm goes off at once — RabbitMQ then blocks every publishing connection
 * (connection.blocked) until it clears — and put back to the value read, relative or absolute,
 * exactly as it was. The one restore used by the agent at its deadline, by removal and by
 * `faultline recover`.
 */
import { FaultError } from '../../errors.js';
import { rabbitmqctl, type CtlOptions } from './ctl.js';

/** As `vm_memory_high_watermark_setting` reports it. */
export type WatermarkSetting = { relative: number } | { absolute: number };

/** Far below any running node's memory: the alarm is certain, whatever the machine. */
export const ALARM_FRACTION = '0.0000001';

interface Status {
  alarms?: { resource?: string; node?: string }[];
  vm_memory_high_watermark_setting?: { relative?: number; absolute?: number | string };
}

async function status(options: CtlOptions): Promise<Status> {
  const text = await rabbitmqctl(['status', '--formatter', 'json'], options);
  try {
    return JSON.parse(text) as Status;
  } catch {
    throw new FaultError(
      `rabbitmqctl status answered something that is not JSON: ${text.slice(0, 200)}`,
    );
  }
}

export async function readWatermark(options: CtlOptions): Promise<WatermarkSetting> {
  const setting = (await status(options)).vm_memory_high_watermark_setting;
  if (typeof setting?.relative === 'number') return { relative: setting.relative };
  if (setting?.absolute !== undefined && Number.isFinite(Number(setting.absolute)))
    return { absolute: Number(setting.absolute) };
  throw new FaultError(
    `cannot read the memory watermark from rabbitmqctl status (got ${JSON.stringify(setting)})`,
  );
}

export async function setWatermark(
  setting: WatermarkSetting | { relative: string },
  options: CtlOptions,
): Promise<void> {
  const args =
    'absolute' in setting
      ? ['absolute', String(Math.round(setting.absolute))]
      : [String(setting.relative)];
  await rabbitmqctl(['set_vm_memory_high_watermark', ...args], options);
}

/** Is the memory alarm raised on the node? */
export async function memoryAlarm(options: CtlOptions): Promise<boolean> {
  return ((await status(options)).alarms ?? []).some((a) => a.resource === 'memory');
}

/** Restores `original`, retrying for up to `withinMs`: a node that is briefly busy must not keep the alarm. */
export async function restoreWatermark(
  original: WatermarkSetting,
  withinMs: number,
  options: CtlOptions,
): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      await setWatermark(original, options);
      return;
    } catch (err) {
      if (options.signal?.aborted || Date.now() > until)
        throw new FaultError(
          `could not restore the memory watermark to ${describeWatermark(original)}: ${(err as Error).message}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Is the watermark the journaled original again? */
export async function isRestored(
  original: WatermarkSetting,
  options: CtlOptions,
): Promise<boolean> {
  const now = await readWatermark(options);
  return 'relative' in original
    ? 'relative' in now && now.relative === original.relative
    : 'absolute' in now && now.absolute === original.absolute;
}

export function describeWatermark(setting: WatermarkSetting): string {
  return 'relative' in setting
    ? `${setting.relative} (relative)`
    : `${setting.absolute} bytes (absolute)`;
}
