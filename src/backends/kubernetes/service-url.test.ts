import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runsInCluster, serviceReachMode } from './service-reach.js';
import { serviceLabel, serviceOfUrl } from './service-url.js';

describe('URLs that name a Kubernetes Service', () => {
  it('reads NAME.NAMESPACE.svc[.cluster.local] with the port, or the scheme default', () => {
    assert.deepEqual(serviceOfUrl('http://payment-service.shop.svc:8080/pay?x=1'), {
      name: 'payment-service',
      namespace: 'shop',
      port: 8080,
      origin: 'http://payment-service.shop.svc:8080',
    });
    assert.deepEqual(serviceOfUrl('https://api.payments-staging.svc.cluster.local/health'), {
      name: 'api',
      namespace: 'payments-staging',
      port: 443,
      origin: 'https://api.payments-staging.svc.cluster.local',
    });
    assert.equal(serviceOfUrl('http://api.shop.svc/')?.port, 80);
    assert.equal(serviceLabel(serviceOfUrl('http://api.shop.svc/')!), 'api.shop:80');
  });

  it('leaves every other URL alone', () => {
    for (const url of [
      'http://127.0.0.1:3000/pay',
      'http://payment-service:8080',
      'http://payment-service.shop:8080',
      'http://svc.example.com',
      'http://a.b.svc.example.com',
      'redis://cache.shop.svc:6379',
      'not a url',
    ])
      assert.equal(serviceOfUrl(url), undefined, url);
  });
});

describe('in a pod or not', () => {
  it('is in-cluster only with KUBERNETES_SERVICE_HOST and a mounted token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-sa-'));
    try {
      const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
      assert.equal(runsInCluster(env, dir), false, 'no token yet');
      writeFileSync(join(dir, 'token'), 't');
      assert.equal(runsInCluster(env, dir), true);
      assert.equal(runsInCluster({}, dir), false, 'no API server address');
      // auto: in-cluster in a pod, else a port-forward with a cluster, else as written.
      assert.equal(serviceReachMode({ env, serviceAccountDir: dir }), 'in-cluster');
      assert.equal(serviceReachMode({ env: {}, serviceAccountDir: dir }), 'port-forward');
      assert.equal(serviceReachMode(undefined, {}), 'as-written');
      assert.equal(
        serviceReachMode(undefined, env),
        'as-written',
        'the default token path is absent here',
      );
      assert.equal(
        serviceReachMode({ env, serviceAccountDir: dir, reach: 'port-forward' }),
        'port-forward',
      );
      assert.equal(serviceReachMode({ env: {}, reach: 'in-cluster' }), 'in-cluster');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
