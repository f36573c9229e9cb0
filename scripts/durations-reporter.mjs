// A node:test reporter that writes one line per top-level test or suite: its file and its
// duration in milliseconds. scripts/test.mjs adds them up per file to order the next runs'
// files longest first (--write-durations saves them in test/durations.json).
export default async function* durations(source) {
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0) {
      yield `${JSON.stringify([event.data.file ?? '', event.data.details.duration_ms ?? 0])}\n`;
    }
  }
}
