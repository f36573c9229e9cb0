/**
 * The game day's console: what the operator and the scribe type while it runs. Lines are read
 * from the terminal (or any stream: tests script it) and become either a decision for the
 * stage being held — `continue`, `abort` — or an entry of the observation log, timestamped:
 *
 * ```
 *   predicted: orders queue           a prediction (what the team expects to see)
 *   actual: 502s at the gateway       what was seen
 *   action: add a circuit breaker @ana    an action item with its owner
 *   criterion 2 met: alert paged within 40 s     a manual success criterion judged
 *   anything else                     a note
 * ```
 */
import { createInterface, type Interface } from 'node:readline';

export type ObservationKind = 'predicted' | 'actual' | 'note' | 'action' | 'criterion' | 'event';

export interface Observation {
  at: string;
  /** The stage it was typed in ("pre-check", "stage 2 (50%)"). */
  stage: string;
  kind: ObservationKind;
  text: string;
  /** Action items: who owns it. */
  owner?: string | undefined;
  /** Manual criteria: which (1-based) and the verdict. */
  criterion?: number | undefined;
  met?: boolean | undefined;
}

export const CONSOLE_HELP =
  'type: continue | abort | predicted: … | actual: … | action: … @owner | criterion N met|missed: … | any note';

export class OperatorConsole {
  readonly log: Observation[] = [];
  stage = 'pre-check';
  /** The operator typed abort. */
  aborted = false;
  private readonly rl: Interface | undefined;
  private pending: ((decision: 'continue' | 'abort') => void) | undefined;

  constructor(
    input: NodeJS.ReadableStream | undefined,
    private readonly print: (line: string) => void,
    private readonly onAbort: (why: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (input) {
      this.rl = createInterface({ input, terminal: false });
      this.rl.on('line', (line) => this.line(line));
    }
  }

  /** Something that happened, for the timeline (stage started, fault applied, …). */
  event(text: string): void {
    this.log.push({ at: this.now().toISOString(), stage: this.stage, kind: 'event', text });
  }

  /** Waits for `continue` or `abort`, or for the signal (the run stopped by itself). */
  decision(signal: AbortSignal): Promise<'continue' | 'abort' | 'stopped'> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve('stopped');
      const onAbort = (): void => {
        this.pending = undefined;
        resolve('stopped');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending = (d) => {
        signal.removeEventListener('abort', onAbort);
        this.pending = undefined;
        resolve(d);
      };
    });
  }

  get waiting(): boolean {
    return this.pending !== undefined;
  }

  line(raw: string): void {
    const text = raw.trim();
    if (!text) return;
    const at = this.now().toISOString();
    const lower = text.toLowerCase();
    if (['continue', 'c', 'next', 'go'].includes(lower)) {
      if (this.pending) {
        this.log.push({ at, stage: this.stage, kind: 'event', text: 'operator: continue' });
        this.pending('continue');
      } else
        this.print(
          '  (nothing to continue yet: the stage is still being observed — type abort to stop everything)',
        );
      return;
    }
    if (['abort', 'a', 'halt', 'stop'].includes(lower)) {
      this.log.push({ at, stage: this.stage, kind: 'event', text: 'operator: abort' });
      this.aborted = true;
      this.pending?.('abort');
      this.onAbort('the operator typed abort');
      return;
    }
    if (['help', '?', 'h'].includes(lower)) {
      this.print(`  ${CONSOLE_HELP}`);
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = /^(predicted|prediction|expect(?:ed)?)\s*:\s*(.+)$/i.exec(text)))
      this.log.push({ at, stage: this.stage, kind: 'predicted', text: m[2]! });
    else if ((m = /^(actual|saw|observed)\s*:\s*(.+)$/i.exec(text)))
      this.log.push({ at, stage: this.stage, kind: 'actual', text: m[2]! });
    else if ((m = /^action\s*:\s*(.+?)(?:\s+@(\S+))?$/i.exec(text)))
      this.log.push({
        at,
        stage: this.stage,
        kind: 'action',
        text: m[1]!,
        owner: m[2] ?? 'unassigned',
      });
    else if ((m = /^criterion\s+(\d+)\s+(met|missed|failed|held)\s*:?\s*(.*)$/i.exec(text)))
      this.log.push({
        at,
        stage: this.stage,
        kind: 'criterion',
        criterion: Number(m[1]),
        met: ['met', 'held'].includes(m[2]!.toLowerCase()),
        text: m[3] ?? '',
      });
    else this.log.push({ at, stage: this.stage, kind: 'note', text });
    this.print(`  logged (${this.log[this.log.length - 1]!.kind}) at ${at.slice(11, 19)}`);
  }

  close(): void {
    this.rl?.close();
  }
}
