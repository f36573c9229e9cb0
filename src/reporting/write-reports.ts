/**
 * Writes a run's reports — HTML, JUnit XML, Markdown, and the GitHub Actions step summary — from
 * a journal. `faultline run --report/--junit/--md`, `faultline report` and `faultline demo` all
 * come through here, so every way of asking for a report gives the same files.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Journal } from '../journal/journal.js';
import { renderHtml } from './html.js';
import { asJournal, readJournal } from './journal-input.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { buildReportModel, type ReportModel } from './report-model.js';

export interface ReportOutputs {
  /** Path of the self-contained HTML report. */
  html?: string | undefined;
  /** Path of the JUnit XML file. */
  junit?: string | undefined;
  /** Path of the Markdown summary. */
  md?: string | undefined;
  /**
   * A file the Markdown summary is *appended* to: GitHub Actions' `$GITHUB_STEP_SUMMARY`. The
   * CLI passes that variable when it is set.
   */
  stepSummary?: string | undefined;
}

export interface WrittenReports {
  /** The model every file was rendered from (verdict, hypotheses, faults, score…). */
  model: ReportModel;
  /** What was written, in order, with absolute paths. */
  files: { kind: 'html' | 'junit' | 'md' | 'step-summary'; path: string }[];
}

/**
 * Renders and writes the requested reports. Parent directories are created.
 *
 * @param source a journal file path, or a journal already in memory
 * @throws {@link ValidationError} when `source` is not a readable faultline journal
 * @example
 * ```ts
 * const { model } = await writeReports('faultline-journal.json', { html: 'report.html', junit: 'junit.xml' });
 * console.log(model.verdict.outcome, model.score.percent);
 * ```
 */
export async function writeReports(
  source: string | Journal,
  outputs: ReportOutputs,
): Promise<WrittenReports> {
  const journal = typeof source === 'string' ? await readJournal(source) : asJournal(source);
  const model = buildReportModel(journal);
  const files: WrittenReports['files'] = [];
  const write = async (
    kind: WrittenReports['files'][number]['kind'],
    path: string,
    text: string,
    append = false,
  ): Promise<void> => {
    const abs = resolve(path);
    await mkdir(dirname(abs), { recursive: true });
    if (append) await appendFile(abs, text);
    else await writeFile(abs, text);
    files.push({ kind, path: abs });
  };
  if (outputs.html) await write('html', outputs.html, renderHtml(model));
  if (outputs.junit) await write('junit', outputs.junit, renderJunit(model));
  const markdown = outputs.md || outputs.stepSummary ? renderMarkdown(model) : '';
  if (outputs.md) await write('md', outputs.md, markdown);
  if (outputs.stepSummary) await write('step-summary', outputs.stepSummary, `${markdown}\n`, true);
  return { model, files };
}
