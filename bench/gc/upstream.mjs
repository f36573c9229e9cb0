import net from 'node:net';
const U = 16 * 1024 * 1024;
const sink = net.createServer((c) => {
  let n = 0;
  c.on('data', (b) => {
    n += b.length;
    while (n >= U) {
      c.write('x');
      n -= U;
    }
  });
  c.on('error', () => {});
});
const echo = net.createServer({ noDelay: true }, (c) => {
  c.on('data', (b) => c.write(b));
  c.on('error', () => {});
});
const source = net.createServer((c) => {
  c.once('data', async (b) => {
    let left = Number(b.toString());
    const ch = Buffer.alloc(65536, 3);
    while (left > 0) {
      left -= ch.length;
      if (!c.write(ch)) await new Promise((r) => c.once('drain', r));
    }
    c.end();
  });
  c.on('error', () => {});
});
sink.listen(0, '127.0.0.1', () =>
  echo.listen(0, '127.0.0.1', () =>
    source.listen(0, '127.0.0.1', () =>
      process.send({
        sink: sink.address().port,
        echo: echo.address().port,
        source: source.address().port,
      }),
    ),
  ),
);
