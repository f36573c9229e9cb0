// proxy child. argv: mode imports...   mode: pipe | link | fl
import net from 'node:net';
import v8 from 'node:v8';
const [mode, sinkPort, echoPort, sourcePort, ...imports] = process.argv.slice(2);
const keep = [];
for (const m of imports) keep.push(await import(m));
globalThis.keep = keep;
const ports = {};
async function listen(s) {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
}
function link(src, dst) {
  let blocked = false,
    paused = false;
  const upd = () => {
    const p = blocked;
    if (p === paused) return;
    paused = p;
    if (p) src.pause();
    else src.resume();
  };
  src.on('data', (c) => {
    if (!dst.write(c) && !blocked) {
      blocked = true;
      upd();
    }
  });
  src.on('end', () => dst.end());
  dst.on('drain', () => {
    blocked = false;
    upd();
  });
}
if (mode === 'fl') {
  const { ProxyCollection } = await import(process.env.FL_ENTRY);
  const col = new ProxyCollection({ seed: 1 });
  for (const [k, p] of [
    ['sink', sinkPort],
    ['echo', echoPort],
    ['source', sourcePort],
  ])
    ports[k] = (await col.create({ name: k, upstream: `127.0.0.1:${p}` })).port;
} else {
  for (const [k, p] of [
    ['sink', sinkPort],
    ['echo', echoPort],
    ['source', sourcePort],
  ]) {
    ports[k] = await listen(
      net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => {
        const u = net.connect({
          host: '127.0.0.1',
          port: Number(p),
          allowHalfOpen: true,
          noDelay: true,
        });
        c.on('error', () => u.destroy());
        u.on('error', () => c.destroy());
        if (mode === 'pipe') {
          c.pipe(u);
          u.pipe(c);
        } else {
          u.once('connect', () => {
            link(c, u);
            link(u, c);
          });
        }
      }),
    );
  }
}
process.on('message', (m) => {
  if (m === 'stats') {
    const h = v8.getHeapStatistics();
    const sp = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]),
    );
    process.send({ cpu: process.cpuUsage(), h, sp, mem: process.memoryUsage() });
  } else if (m === 'gc') {
    globalThis.gc?.();
    process.send('ok');
  }
});
process.send(ports);
