/**
 * The proxy's TLS mode and the certificate fault, against real Node TLS clients that trust the
 * run's CA (the file the target names): a good handshake, then the exact error Node's client
 * gives for each bad certificate, then a good handshake again after removal and after the lease.
 * Through the runner too, with an experiment whose probe is a real TLS client process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { parseExperiment } from '../../src/run-plan/read-experiment.js';
import {
  certificateSet,
  createCa,
  type CertificateProblem,
} from '../../src/engines/proxy/certificates.js';
import { ProxyCollection } from '../../src/engines/proxy/proxy-collection.js';
import { planExperiment } from '../../src/run-plan/from-experiment.js';
import { planProxyFault as planFault } from '../../src/backends/proxy/plan-fault.js';
import type { PlannedFault } from '../../src/run-plan/plan.js';
import { runExperiment } from '../../src/runner/runner.js';
import { LocalProxyDriver } from '../../src/backends/proxy/driver.js';
import { freePort, startEcho } from '../helpers/services.js';
import { ValidationError } from '../../src/errors.js';
import { waitFor } from '../helpers/wait-for.js';

const HOST = 'db.faultline.test';

/** A real TLS client trusting only `ca`: resolves with the echo of "ping", or rejects with Node's error. */
function tlsPing(port: number, ca: string, servername = HOST): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca, timeout: 5000 });
    socket.once('error', reject);
    socket.once('timeout', () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      socket.write('ping');
      socket.once('data', (data) => {
        resolve(data.toString());
        socket.destroy();
      });
    });
  });
}

const EXPECTED: Record<CertificateProblem, string> = {
  expired: 'CERT_HAS_EXPIRED',
  'not-yet-valid': 'CERT_NOT_YET_VALID',
  'wrong-host': 'ERR_TLS_CERT_ALTNAME_INVALID',
  untrusted: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'self-signed': 'DEPTH_ZERO_SELF_SIGNED_CERT',
};

function planned(problem: CertificateProblem, index = 0): PlannedFault {
  return planFault({ fault: 'certificate', target: 'db', problem, duration: '30s' }, index)[0]!;
}

describe('TLS proxy and the certificate fault', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let collection: ProxyCollection;
  let driver: LocalProxyDriver;
  let caFile: string;
  let ca: string;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-tls-'));
    echo = await startEcho();
    collection = new ProxyCollection();
    caFile = join(dir, 'ca.pem');
    driver = new LocalProxyDriver(
      'db',
      {
        type: 'proxy',
        upstream: echo.address,
        listen: '127.0.0.1:0',
        mode: 'tcp',
        tls: { hostname: HOST, caFile, upstream: 'plain' },
      },
      collection,
    );
    await driver.prepare();
    ca = await readFile(caFile, 'utf8');
    port = driver.running!.port;
  });
  after(async () => {
    await driver.dispose();
    await collection.close();
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a client trusting the run CA connects through the TLS proxy to the plain upstream', async () => {
    assert.match(driver.description, /TLS for db\.faultline\.test/);
    assert.equal(await tlsPing(port, ca), 'ping');
    assert.match(await readFile(`${caFile}.key`, 'utf8'), /PRIVATE KEY/);
  });

  for (const [index, problem] of (Object.keys(EXPECTED) as CertificateProblem[]).entries()) {
    test(`certificate ${problem}: new connections fail with ${EXPECTED[problem]}, a live one goes on, removal restores`, async () => {
      const live = connect({ host: '127.0.0.1', port, servername: HOST, ca });
      await new Promise((resolve, reject) =>
        live.once('secureConnect', resolve).once('error', reject),
      );
      const fault = planned(problem, index);
      const location = driver.locate(fault);
      await driver.apply(fault, 30);
      assert.equal(await driver.isGone(location), false);
      await assert.rejects(tlsPing(port, ca), { code: EXPECTED[problem] });
      await assert.rejects(tlsPing(port, ca), { code: EXPECTED[problem] });
      // The connection made before the fault keeps its good session.
      live.write('still');
      assert.equal(
        (await new Promise<Buffer>((resolve) => live.once('data', resolve))).toString(),
        'still',
      );
      live.destroy();
      const touched = await driver.touched(location);
      assert.equal(
        touched?.connections,
        2,
        'two new connections were presented the bad certificate',
      );
      await driver.remove(location);
      assert.equal(await driver.isGone(location), true);
      assert.equal(await tlsPing(port, ca), 'ping');
      assert.equal((await driver.touched(location))?.connections, 2, 'the count survives removal');
    });
  }

  test('https.get sees the expired certificate too (ERR from the https stack), and the good one after', async () => {
    const get = (): Promise<number> =>
      new Promise((resolve, reject) => {
        // The echo upstream answers an HTTP request with its own bytes: any reply proves the handshake.
        const req = request(
          {
            host: '127.0.0.1',
            port,
            servername: HOST,
            ca,
            path: '/',
            headers: { host: HOST },
            agent: false,
            timeout: 5000,
          },
          (res) => {
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        // The echo sends the request back: not HTTP, so the parser fails after a good handshake.
        req.once('error', (err: NodeJS.ErrnoException) => {
          req.destroy();
          if (err.code?.startsWith('HPE_')) resolve(-1);
          else reject(err);
        });
        req.end();
      });
    const fault = planned('expired', 9);
    await driver.apply(fault, 30);
    await assert.rejects(get(), { code: 'CERT_HAS_EXPIRED' });
    await driver.remove(driver.locate(fault));
    assert.equal(
      typeof (await get()),
      'number',
      'the handshake succeeds: whatever the echo answers is not a certificate error',
    );
  });

  test('the lease restores the good certificate by itself', async () => {
    const fault = planned('untrusted', 10);
    const location = driver.locate(fault);
    await driver.apply(fault, 1);
    await assert.rejects(tlsPing(port, ca), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await waitFor('the lease to restore the certificate', () => driver.isGone(location), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    assert.equal(await tlsPing(port, ca), 'ping');
  });

  test('a second run reuses the CA file, so a service trusting it keeps working', async () => {
    const again = new LocalProxyDriver(
      'db2',
      {
        type: 'proxy',
        upstream: echo.address,
        listen: '127.0.0.1:0',
        mode: 'tcp',
        tls: { hostname: HOST, caFile, upstream: 'plain' },
      },
      collection,
    );
    await again.prepare();
    try {
      assert.equal(await readFile(caFile, 'utf8'), ca);
      assert.equal(await tlsPing(again.running!.port, ca), 'ping');
    } finally {
      await again.dispose();
    }
  });

  test('upstream tls: the proxy re-encrypts toward a TLS upstream it verifies', async () => {
    const upstreamCa = createCa('upstream CA');
    const certs = certificateSet(upstreamCa, 'upstream.faultline.test');
    const server = createServer(certs.good, (socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const upstreamCaFile = join(dir, 'upstream-ca.pem');
    await writeFile(upstreamCaFile, upstreamCa.cert);
    const upstreamPort = (server.address() as { port: number }).port;
    const tlsDriver = new LocalProxyDriver(
      'tls-up',
      {
        type: 'proxy',
        upstream: `127.0.0.1:${upstreamPort}`,
        listen: '127.0.0.1:0',
        mode: 'tcp',
        tls: {
          hostname: HOST,
          caFile,
          upstream: 'tls',
          upstreamCaFile,
          upstreamServername: 'upstream.faultline.test',
        },
      },
      collection,
    );
    await tlsDriver.prepare();
    try {
      assert.equal(await tlsPing(tlsDriver.running!.port, ca), 'ping');
    } finally {
      await tlsDriver.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('the loader refuses certificate on a proxy without tls, and tls on an HTTP proxy', () => {
    const doc = {
      title: 't',
      targets: {
        plain: { type: 'proxy', upstream: '127.0.0.1:1' },
        web: { type: 'proxy', upstream: '127.0.0.1:1', mode: 'http', tls: { hostname: 'x' } },
      },
      method: [{ fault: 'certificate', target: 'plain', problem: 'expired', duration: '5s' }],
    };
    assert.throws(
      () => parseExperiment(stringify(doc), 'bad.yaml'),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.issues.some((i) => i.path === 'method[0].fault' && /no tls/.test(i.message)) &&
        err.issues.some((i) => i.path === 'targets.web.tls'),
    );
  });
});

describe('certificate fault through the runner', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-tls-run-'));
    echo = await startEcho();
  });
  after(async () => {
    await echo.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an experiment: the client fails with CERT_HAS_EXPIRED during the fault and connects before and after', async () => {
    const port = await freePort();
    const caFile = join(dir, 'ca.pem');
    // The "service": a real TLS client process trusting the CA file (NODE_EXTRA_CA_CERTS is read at its start).
    const client = join(dir, 'client.mjs');
    await writeFile(
      client,
      `import { connect } from 'node:tls';
const s = connect({ host: '127.0.0.1', port: ${port}, servername: '${HOST}' });
s.on('secureConnect', () => { console.log('ok'); s.destroy(); });
s.on('error', (e) => { console.log(e.code); process.exitCode = 1; });
`,
    );
    const doc = {
      title: 'clients notice an expired internal certificate',
      targets: {
        db: {
          type: 'proxy',
          upstream: echo.address,
          listen: `127.0.0.1:${port}`,
          tls: { hostname: HOST, caFile },
        },
      },
      steadyState: {
        probes: [
          {
            name: 'tls-handshake',
            command: {
              run: [process.execPath, client],
              env: { NODE_EXTRA_CA_CERTS: caFile },
              timeout: '10s',
            },
            expect: { exitCode: 0, stdout: { contains: 'ok' } },
          },
        ],
      },
      method: [
        {
          fault: 'certificate',
          target: 'db',
          problem: 'expired',
          duration: '3s',
          name: 'expired-cert',
        },
        {
          probe: {
            name: 'during',
            command: {
              run: [process.execPath, client],
              env: { NODE_EXTRA_CA_CERTS: caFile },
              timeout: '10s',
            },
            expect: { stdout: { contains: 'CERT_HAS_EXPIRED' } },
          },
        },
      ],
      runtime: { hypothesis: 'before-method-only' },
      safety: { maxDuration: '60s' },
    };
    const file = join(dir, 'experiment.yaml');
    const plan = planExperiment(parseExperiment(stringify(doc), file), { file, env: {} });
    const journal = await runExperiment(plan, { journalPath: join(dir, 'journal.json') });
    assert.equal(
      journal.faultline.outcome,
      'held',
      `${journal.faultline.reason} ${JSON.stringify(journal.steady_states.before)}`,
    );
    const fault = journal.faultline.faults[0]!;
    assert.equal(fault.state, 'removed');
    assert.ok((fault.touched?.connections ?? 0) >= 1, 'the fault touched the client connection');
    assert.deepEqual(journal.faultline.verification, [{ fault: 'expired-cert', gone: true }]);
    const during = journal.run.find((r) => (r.activity as { name?: string }).name === 'during');
    assert.ok(during, 'the probe during the fault ran');
    assert.match(JSON.stringify(during.output), /CERT_HAS_EXPIRED/);
  });
});
