import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { MEDIA_YAML, SHOP_YAML } from '../../test/helpers/planner-architectures.js';
import { parseArchitecture } from './architecture-read.js';
import { buildCatalogue, type Scenario } from './catalogue.js';
import { componentsOf, PER_COMPONENT, selectTop } from './top-selection.js';

const fintechText = readFileSync(
  new URL('../../examples/architectures/fintech.yaml', import.meta.url),
  'utf8',
);
const fintech = parseArchitecture(fintechText, 'fintech.yaml');

/** The rules of docs/planner.md, checked on any catalogue and any N. */
function assertRules(catalogue: readonly Scenario[], n: number, label: string): void {
  const { picks, passedOver } = selectTop(catalogue, n);
  const top = picks.map((p) => p.scenario);
  assert.equal(top.length, Math.min(n, catalogue.length), label);
  assert.deepEqual(
    picks.map((p) => p.position),
    top.map((_, i) => i + 1),
    label,
  );
  // In score order, each row once.
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.rank < top[i]!.rank, label);
  // As many failure modes as the architecture has (up to N).
  const modes = new Set(catalogue.map((s) => s.mode));
  assert.equal(new Set(top.map((s) => s.mode)).size, Math.min(n, modes.size), label);
  // At most PER_COMPONENT rows per component, unless a mode or the count needs more; a row
  // over the limit says which.
  const uses = new Map<string, number>();
  for (const s of top) for (const c of componentsOf(s)) uses.set(c, (uses.get(c) ?? 0) + 1);
  for (const [component, count] of uses)
    if (count > PER_COMPONENT)
      assert.ok(
        picks.some(
          (p) =>
            componentsOf(p.scenario).includes(component) &&
            /every (row left|\S+ row) names a component already in/.test(p.why),
        ),
        `${label}: ${component} in ${count} rows`,
      );
  // Every row that the score alone would have put in the top says why it is not there.
  const chosen = new Set(top.map((s) => s.id));
  assert.deepEqual(
    passedOver.map((p) => p.scenario.id),
    catalogue
      .slice(0, n)
      .filter((s) => !chosen.has(s.id))
      .map((s) => s.id),
    label,
  );
  for (const p of passedOver) assert.ok(p.why.length > 20, `${label}: ${p.scenario.id}`);
}

describe('selectTop', () => {
  const architectures = {
    fintech,
    shop: parseArchitecture(SHOP_YAML, 'shop.yaml'),
    media: parseArchitecture(MEDIA_YAML, 'media.yaml'),
  };

  for (const [name, architecture] of Object.entries(architectures)) {
    it(`keeps its rules on ${name} for every N from 1 to the whole catalogue`, () => {
      const catalogue = buildCatalogue(architecture);
      for (let n = 1; n <= catalogue.length + 1; n++) assertRules(catalogue, n, `${name} n=${n}`);
    });
  }

  it("puts nine of the brief's ten fintech scenarios in the top 10; gateway memory pressure loses on its declared mitigations", () => {
    const catalogue = buildCatalogue(fintech);
    const top = selectTop(catalogue, 10).picks.map((p) => p.scenario.id);
    const brief = [
      'slow-dependency:payment-service->postgresql',
      'dependency-outage:redis',
      'latency-spike:auth-service',
      'queue-partition:rabbitmq',
      'pod-crash:payment-service',
      'dns-failure:cluster-dns',
      'network-partition:api-gateway->auth-service',
      'disk-pressure:postgresql',
      'certificate-expiry:internal-mtls',
    ];
    assert.deepEqual(
      brief.filter((id) => !top.includes(id)),
      [],
    );
    assert.deepEqual(
      top.filter((id) => !brief.includes(id)),
      ['memory-pressure:ledger-service'],
    );
    // The why, in score parts: the same impact, but the gateway declares a memory limit,
    // autoscaling and three replicas, so only load shedding is missing.
    const gateway = catalogue.find((s) => s.id === 'memory-pressure:api-gateway')!;
    const ledger = catalogue.find((s) => s.id === 'memory-pressure:ledger-service')!;
    assert.equal(gateway.parts.exposure.points, 6.3);
    assert.equal(ledger.parts.exposure.points, 18.8);
    assert.ok(gateway.score < ledger.score);
    // Without the memory limit and autoscaling the gateway takes the memory-pressure place.
    const doc = parse(fintechText) as {
      services: Record<string, { mitigations?: Record<string, unknown> }>;
    };
    doc.services['api-gateway']!.mitigations = {};
    const bare = selectTop(buildCatalogue(parseArchitecture(stringify(doc), 'bare.yaml')), 10);
    assert.ok(bare.picks.some((p) => p.scenario.id === 'memory-pressure:api-gateway'));
  });

  it('no longer repeats an edge or fills the top with one database', () => {
    for (const architecture of Object.values(architectures)) {
      const top = selectTop(buildCatalogue(architecture), 10).picks.map((p) => p.scenario);
      const edges = top.filter((s) => s.component.includes(' -> ')).map((s) => s.component);
      assert.equal(new Set(edges).size, edges.length);
    }
    // orders-db: its timeout and outage by score, and disk pressure because only orders-db
    // has a disk in the file (coverage first): three modes, not five near-variants.
    const shop = selectTop(buildCatalogue(architectures.shop), 10).picks;
    const db = shop.filter((p) => componentsOf(p.scenario).includes('orders-db'));
    assert.deepEqual(
      db.map((p) => p.scenario.mode),
      ['slow-dependency', 'dependency-outage', 'disk-pressure'],
    );
    assert.match(db[2]!.why, /every disk-pressure row names a component already in 2 rows/);
  });
});
