import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExperiment } from '../../run-plan/read-experiment.js';
import { ValidationError } from '../../errors.js';
import { parseSize, sizeBytes } from './size.js';

function issues(doc: unknown): string[] {
  try {
    parseExperiment(JSON.stringify(doc), 'host.json');
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('resources sizes and load-time checks', () => {
  it('reads sizes in binary units and percentages of a whole', () => {
    assert.deepEqual(parseSize('64MB'), { bytes: 64 * 1024 ** 2 });
    assert.deepEqual(parseSize('1.5GB'), { bytes: 1.5 * 1024 ** 3 });
    assert.deepEqual(parseSize('25%'), { fraction: 0.25 });
    assert.equal(parseSize('lots'), undefined);
    assert.equal(sizeBytes('10%', 1000), 100);
  });

  it('refuses a disk floor below 64 MB or 1%, and memory workers on a host, each at its path, in one pass', () => {
    const found = issues({
      title: 'x',
      targets: { box: { type: 'host' } },
      method: [
        { fault: 'disk-fill', target: 'box', duration: '5s', path: '/tmp', remaining: '10MB' },
        { fault: 'disk-fill', target: 'box', duration: '5s', path: '/tmp', remaining: '0.5%' },
        { fault: 'memory-stress', target: 'box', duration: '5s', size: '95%' },
        { fault: 'memory-stress', target: 'box', duration: '5s', size: '64MB', workers: 2 },
      ],
    });
    assert.ok(
      found.some((p) =>
        /^method\[0\]\.remaining: remaining 10MB is below the safe minimum of 64\.0 MB/.test(p),
      ),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) =>
        /^method\[1\]\.remaining: remaining 0\.5% is below the safe minimum of 1%/.test(p),
      ),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) =>
        /^method\[2\]\.size: size 95% would leave the machine too little memory/.test(p),
      ),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => /^method\[3\]\.workers: /.test(p)),
      found.join('\n'),
    );
    assert.deepEqual(
      issues({
        title: 'ok',
        targets: { box: { type: 'host' } },
        method: [
          { fault: 'disk-fill', target: 'box', duration: '5s', path: '/tmp', remaining: '64MB' },
        ],
      }),
      [],
    );
  });
});
