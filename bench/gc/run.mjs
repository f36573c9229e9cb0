// Diagnosis harness for the GC cost of bulk transfer (see BENCHMARKS.md, "A garbage-collection cost").
// node bench/gc/run.mjs MiB pipe|link|fl [module to import into the proxy process…]
//   env: FL_ENTRY=<built faultline index.js> (mode fl), NODEFLAGS=--trace-gc (counts mark-compacts),
//        DOWN=1 (upstream→client instead of client→upstream), RTT=N (64 B round trips, p50 µs)
// run.mjs MiB mode [imports...]  (env NODEFLAGS for the proxy)
import { fork } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
const [mib, mode, ...imports] = process.argv.slice(2);
const TOTAL = Number(mib) * 1024 * 1024;
const up = fork(new URL('./upstream.mjs', import.meta.url), [String(TOTAL)]);
const [uports] = await once(up, 'message');
const flags = (process.env.NODEFLAGS ?? '').split(' ').filter(Boolean);
const px = fork(
  new URL('./proxy.mjs', import.meta.url),
  [mode, uports.sink, uports.echo, uports.source, ...imports],
  {
    execArgv: flags,
    stdio: ['ignore', process.env.SHOWOUT ? 'inherit' : 'pipe', 'inherit', 'ipc'],
  },
);
let out = '';
px.stdout?.on('data', (d) => (out += d));
const [pports] = await once(px, 'message');
const ask = async (m) => {
  px.send(m);
  return (await once(px, 'message'))[0];
};
async function transfer(bytes) {
  const s = net.connect({ host: '127.0.0.1', port: pports.sink, noDelay: true });
  await once(s, 'connect');
  const chunk = Buffer.alloc(65536, 7);
  const t0 = process.hrtime.bigint();
  let acks = 0;
  const want = bytes / (16 * 1024 * 1024);
  let res;
  const done = new Promise((r) => (res = r));
  s.on('data', (d) => {
    acks += d.length;
    if (acks >= want) res();
  });
  let sent = 0;
  while (sent < bytes) {
    sent += chunk.length;
    if (!s.write(chunk)) await once(s, 'drain');
  }
  await done;
  const t = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return bytes / t / 1e6;
}
async function download(bytes) {
  const s = net.connect({ host: '127.0.0.1', port: pports.source, noDelay: true });
  await once(s, 'connect');
  const t0 = process.hrtime.bigint();
  s.write(String(bytes));
  let got = 0;
  s.on('data', (d) => (got += d.length));
  await once(s, 'end');
  if (got < bytes) throw new Error('short ' + got);
  s.destroy();
  return bytes / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6;
}
async function rtt(n) {
  const s = net.connect({ host: '127.0.0.1', port: pports.echo, noDelay: true });
  await once(s, 'connect');
  const b = Buffer.alloc(64, 1);
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    s.write(b);
    let got = 0;
    while (got < 64) {
      const [d] = await once(s, 'data');
      got += d.length;
    }
    xs.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  s.destroy();
  xs.sort((a, b) => a - b);
  return xs[Math.floor(n / 2)];
}
await transfer(128 * 1024 * 1024);
await download(128 * 1024 * 1024);
const before = await ask('stats');
const lenBefore = out.length;
const mbs = process.env.DOWN ? await download(TOTAL) : await transfer(TOTAL);
const after = await ask('stats');
const gcOut = out.slice(lenBefore);
const mc = (gcOut.match(/Mark-Compact|Mark-sweep/g) ?? []).length,
  sc = (gcOut.match(/Scavenge/g) ?? []).length;
const cpu = (after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system)) / 1000;
const r = process.env.RTT ? await rtt(Number(process.env.RTT)) : undefined;
const d = (k) => ((after.sp[k] - before.sp[k]) / 1e6).toFixed(2);
console.log(
  JSON.stringify({
    dir: process.env.DOWN ? 'down' : 'up',
    mode,
    imports: imports.join(','),
    mbs: Math.round(mbs),
    cpuPerGiB: Math.round(cpu / (TOTAL / 2 ** 30)),
    mc,
    sc,
    oldDelta: d('old_space'),
    heapBefore: (before.h.used_heap_size / 1e6).toFixed(1),
    ext: ((after.mem.external - before.mem.external) / 1e6).toFixed(1),
    rttP50: r?.toFixed(1),
  }),
);
if (process.env.DUMP) (await import('node:fs')).writeFileSync(process.env.DUMP, gcOut);
px.kill();
up.kill();
