// 4 MB of plain objects: enough to lift a small process above V8's 8 MB incremental-marking threshold.
export const b = Array.from({ length: 40000 }, (_, i) => ({
  i,
  s: `object ${i}`,
  a: [i, i + 1, i + 2],
}));
