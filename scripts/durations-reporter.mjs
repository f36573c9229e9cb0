// node:test's TAP reporter, unchanged, that also notes each top-level test's or suite's file and
// duration as the events pass. scripts/test.mjs reads the TAP for its counts, and adds the
// durations up per file to order later runs' files longest first (--write-durations saves them
// in test/durations.json). One reporter for both, because a third reporter on the runner's
// stream trips Node's MaxListenersExceededWarning.
//
// The durations go, one JSON line `[file, ms]` each, to the file FAULTLINE_TEST_DURATIONS names.
import { appendFileSync } from 'node:fs';
import { tap } from 'node:test/reporters';

async function* noting(source, path) {
  for await (const event of source) {
    if (
      path &&
      (event.type === 'test:pass' || event.type === 'test:fail') &&
      event.data.nesting === 0
    ) {
      appendFileSync(
        path,
        `${JSON.stringify([event.data.file ?? '', event.data.details.duration_ms ?? 0])}\n`,
      );
    }
    yield event;
  }
}

export default async function* tapWithDurations(source) {
  yield* tap(noting(source, process.env['FAULTLINE_TEST_DURATIONS']));
}
