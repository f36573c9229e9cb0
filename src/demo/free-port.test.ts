import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ephemeralRange, freePort, portRange, reservationDir, reservePort } from './free-port.js';

const MODULE = new URL('./free-port.ts', import.meta.url).href;

/**
 * A child node (through tsx, as the tests run) that takes `count` ports, prints them as one JSON
 * line and holds them until its stdin closes: both children must be alive while they are compared.
 */
function portTaker(count: number): { ports: Promise<number[]>; exit: () => Promise<void> } {
  const code = `const { freePort } = await import(${JSON.stringify(MODULE)});
    const ports = [];
    for (let i = 0; i < ${count}; i++) ports.push(await freePort());
    console.log(JSON.stringify(ports));
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(proc, 'exit');
  const ports = (async () => {
    let out = '';
    for await (const chunk of proc.stdout) {
      out += String(chunk);
      if (out.includes('\n')) return JSON.parse(out) as number[];
    }
    throw new Error('the child ended before printing its ports');
  })();
  return {
    ports,
    exit: async () => {
      proc.stdin.end();
      await exited;
    },
  };
}

describe('freePort', () => {
  it('hands out ports outside the ephemeral range, free to listen on', async () => {
    const [low, high] = ephemeralRange();
    const range = portRange();
    assert.ok(range, 'this machine has room outside its ephemeral range');
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      assert.ok(port < low || port > high, `${port} outside ${low}–${high}`);
      assert.ok(port >= range[0] && port <= range[1]);
      const server = createServer().listen(port, '127.0.0.1');
      await once(server, 'listening');
      server.close();
    }
  });

  // The race it exists for: a port the kernel gave out for port 0 can be taken by any outgoing
  // connection's local port, and then nothing can listen on it.
  it('a port an outgoing connection holds cannot be listened on; freePort never hands one out', async () => {
    const target = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(target, 'listening');
    const socket = connect((target.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const taken = socket.localPort!;
    const listener = createServer().listen(taken, '127.0.0.1');
    const [err] = (await once(listener, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'EADDRINUSE');
    const [low, high] = ephemeralRange();
    assert.ok(taken >= low && taken <= high, 'the local port came from the ephemeral range');
    socket.destroy();
    target.close();
  });

  it('two processes asking at once get disjoint ports, and their reservations go when they exit', async () => {
    const takers = [portTaker(150), portTaker(150)];
    const [a, b] = await Promise.all(takers.map((t) => t.ports));
    assert.equal(new Set(a).size, 150);
    assert.equal(new Set(b).size, 150);
    assert.deepEqual(
      a!.filter((p) => b!.includes(p)),
      [],
    );
    await Promise.all(takers.map((t) => t.exit()));
    const left = [...a!, ...b!].filter((p) => existsSync(join(reservationDir(), String(p))));
    assert.deepEqual(left, [], 'no reservation outlives its process');
  });

  it('a live process keeps its reservation; a dead one is taken over', async () => {
    let port = portRange()![0];
    while (!reservePort(port)) port++; // the first port of the range no other process holds
    const file = join(reservationDir(), String(port));
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(sleeper, 'spawn');
    try {
      assert.equal(readFileSync(file, 'utf8'), String(process.pid));
      writeFileSync(file, String(sleeper.pid)); // as if the sleeper had reserved it
      assert.equal(reservePort(port), false, 'a live owner keeps it');
      sleeper.kill('SIGKILL');
      await once(sleeper, 'exit');
      assert.equal(reservePort(port), true, 'a dead owner loses it');
      assert.equal(readFileSync(file, 'utf8'), String(process.pid));
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
