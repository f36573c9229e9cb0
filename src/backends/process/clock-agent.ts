/**
 * The `process/clock` agent: writes a clock offset into a service's libfaketime timestamp file
 * (./faketime.ts), holds it until removal or the lease deadline, then writes "+0" back. A
 * SIGKILLed runner cannot leave the clock skewed past the deadline.
 *
 * Params: `{ file: string, offset: string }` (offset in libfaketime's relative form, "-3600").
 */
import { writeFileSync } from 'node:fs';
import type { AgentContext } from '../local/agent.js';
import { NO_SKEW } from './faketime.js';

export async function run(params: unknown, context: AgentContext): Promise<void> {
  const { file, offset } = (params ?? {}) as { file?: string; offset?: string };
  if (!file || !offset) throw new Error('clock agent: file and offset are required');
  try {
    writeFileSync(file, `${offset}\n`);
    context.ready({ file, offset });
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    writeFileSync(file, `${NO_SKEW}\n`);
  }
}
