/**
 * Two architecture files besides the shipped fintech one, for the planner's rules: an online
 * shop (9 services, one database most of them share, the shape whose top 10 used to hold that
 * database 5 times) and a small media site (4 services, fewer rows than a top 10).
 */

/** 9 services on Kubernetes; `orders-db` is used by six of them. */
export const SHOP_YAML = `
name: shop
environment: staging
kubernetes: { namespace: shop-staging, labels: { environment: staging } }
services:
  storefront:
    criticality: critical
    revenueImpact: indirect
    replicas: 3
    slo: { p99: 1s, errorRate: 1% }
    baseline: { p99: 180ms, errorRate: 0.1%, rps: 80 }
    mitigations: { memoryLimit: 512Mi }
    local: { url: "http://127.0.0.1:7000" }
    kubernetes: { labels: { app: storefront }, port: 7000 }
    dependsOn:
      - { on: catalog, timeout: 2s }
      - { on: cart, timeout: 2s }
      - { on: checkout, timeout: 10s }
      - { on: recommendations, timeout: 1s, fallback: "no recommendations" }
  catalog:
    criticality: high
    revenueImpact: indirect
    replicas: 2
    slo: { p99: 500ms }
    baseline: { p99: 60ms, rps: 60 }
    local: { url: "http://127.0.0.1:7100" }
    kubernetes: { labels: { app: catalog }, port: 7100 }
    dependsOn:
      - { on: orders-db, purpose: products, timeout: 3s, pool: 10 }
      - { on: search, timeout: 2s }
  cart:
    criticality: critical
    revenueImpact: direct
    replicas: 2
    slo: { p99: 500ms }
    baseline: { p99: 40ms, rps: 40 }
    local: { url: "http://127.0.0.1:7200" }
    kubernetes: { labels: { app: cart }, port: 7200 }
    dependsOn:
      - { on: sessions, purpose: carts, timeout: 1s, pool: 20, retries: { attempts: 4, backoff: none } }
      - { on: orders-db, purpose: prices, timeout: 2s, pool: 5 }
  checkout:
    criticality: critical
    revenueImpact: direct
    replicas: 2
    transactional: true
    slo: { p99: 3s, errorRate: 0.5% }
    baseline: { p99: 600ms, rps: 10 }
    local: { url: "http://127.0.0.1:7300" }
    kubernetes: { labels: { app: checkout }, port: 7300 }
    dependsOn:
      - { on: orders-db, purpose: orders, timeout: 30s, pool: 10 }
      - { on: payments, timeout: 5s }
      - { on: inventory, timeout: 2s }
      - { on: events, mode: async }
  payments:
    criticality: critical
    revenueImpact: direct
    replicas: 2
    transactional: true
    local: { url: "http://127.0.0.1:7400" }
    kubernetes: { labels: { app: payments }, port: 7400 }
    dependsOn:
      - { on: orders-db, purpose: payments, timeout: 5s, pool: 5 }
      - { on: card-gateway, timeout: 10s, retries: { attempts: 2, backoff: exponential } }
  inventory:
    criticality: high
    revenueImpact: direct
    replicas: 1
    local: { url: "http://127.0.0.1:7500" }
    kubernetes: { labels: { app: inventory }, port: 7500 }
    dependsOn:
      - { on: orders-db, purpose: stock, timeout: 2s, pool: 5 }
  recommendations:
    criticality: low
    replicas: 1
    local: { url: "http://127.0.0.1:7600" }
    kubernetes: { labels: { app: recommendations }, port: 7600 }
    dependsOn:
      - { on: orders-db, purpose: history, pool: 5 }
  shipping:
    criticality: medium
    revenueImpact: indirect
    replicas: 1
    local: { url: "http://127.0.0.1:7700" }
    kubernetes: { labels: { app: shipping }, port: 7700 }
    dependsOn:
      - { on: events, mode: async, consumes: true }
      - { on: orders-db, purpose: shipments, timeout: 5s }
  mailer:
    criticality: low
    replicas: 1
    local: { url: "http://127.0.0.1:7800" }
    kubernetes: { labels: { app: mailer }, port: 7800 }
    dependsOn:
      - { on: events, mode: async, consumes: true, idempotent: true }
dependencies:
  orders-db:
    kind: database
    engine: postgresql
    replicas: 2
    failover: true
    volume: /var/lib/postgresql/data
    address: "127.0.0.1:5433"
    kubernetes: { labels: { app: orders-db }, port: 5432 }
  sessions:
    kind: cache
    engine: redis
    replicas: 1
    address: "127.0.0.1:6380"
    kubernetes: { labels: { app: sessions }, port: 6379 }
  events:
    kind: queue
    engine: rabbitmq
    replicas: 1
    durable: true
    address: "127.0.0.1:5673"
    kubernetes: { labels: { app: events }, port: 5672 }
  search: { kind: service, externalHost: search.example.net }
  card-gateway: { kind: service, externalHost: api.cards.example.net }
  cluster-dns: { kind: dns, replicas: 1, usedBy: all }
  shop-tls: { kind: certificate, rotation: manual, usedBy: [storefront] }
criticalPaths:
  - { name: buy, steps: [storefront, checkout, orders-db], criticality: critical, revenueImpact: direct, request: { method: POST, path: /checkout, body: "{}", rate: 10 } }
  - { name: browse, steps: [storefront, catalog, orders-db], criticality: high, revenueImpact: indirect }
`;

/** 4 services, no Kubernetes placement: fewer rows than a top 10 fills. */
export const MEDIA_YAML = `
name: media
environment: ci
services:
  web:
    criticality: critical
    revenueImpact: indirect
    replicas: 2
    slo: { p99: 1s }
    local: { url: "http://127.0.0.1:8100" }
    dependsOn:
      - { on: api, timeout: 2s }
  api:
    criticality: critical
    revenueImpact: indirect
    replicas: 2
    local: { url: "http://127.0.0.1:8200" }
    dependsOn:
      - { on: media-db, timeout: 1s, pool: 10 }
      - { on: thumbnails, mode: async }
  transcoder:
    criticality: medium
    replicas: 1
    local: { url: "http://127.0.0.1:8300" }
    dependsOn:
      - { on: thumbnails, mode: async, consumes: true }
      - { on: media-db, timeout: 5s }
  admin:
    criticality: low
    replicas: 1
    local: { url: "http://127.0.0.1:8400" }
    dependsOn:
      - { on: media-db }
dependencies:
  media-db: { kind: database, engine: mysql, replicas: 1, address: "127.0.0.1:3306" }
  thumbnails: { kind: queue, engine: rabbitmq, replicas: 1, address: "127.0.0.1:5674" }
criticalPaths:
  - { name: watch, steps: [web, api, media-db], criticality: critical, revenueImpact: indirect }
`;
