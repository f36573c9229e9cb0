import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceRoutes } from './service-routes.js';

describe('ServiceRoutes', () => {
  it('notes the Services URLs name, once per origin, and routes them when told', () => {
    const routes = new ServiceRoutes();
    routes.note('http://payment-service.shop.svc:8080/pay');
    routes.note('http://payment-service.shop.svc:8080/health');
    routes.note('http://auth.shop.svc.cluster.local/login');
    routes.note('http://127.0.0.1:3000/pay');
    assert.deepEqual(
      routes.services.map((s) => s.origin),
      ['http://payment-service.shop.svc:8080', 'http://auth.shop.svc.cluster.local'],
    );
    // Before a route exists (and after the run clears them): as written.
    assert.equal(
      routes.resolve('http://payment-service.shop.svc:8080/pay?a=1'),
      'http://payment-service.shop.svc:8080/pay?a=1',
    );
    routes.use(new Map([['http://payment-service.shop.svc:8080', 'http://127.0.0.1:40123']]));
    assert.equal(
      routes.resolve('http://payment-service.shop.svc:8080/pay?a=1'),
      'http://127.0.0.1:40123/pay?a=1',
    );
    assert.equal(
      routes.resolve('http://auth.shop.svc.cluster.local/login'),
      'http://auth.shop.svc.cluster.local/login',
    );
    assert.equal(routes.resolve('http://127.0.0.1:3000/pay'), 'http://127.0.0.1:3000/pay');
    routes.use(new Map());
    assert.equal(
      routes.resolve('http://payment-service.shop.svc:8080/pay'),
      'http://payment-service.shop.svc:8080/pay',
    );
  });
});
