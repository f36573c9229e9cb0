// Validates custom objects against the openAPIV3Schema of real CustomResourceDefinitions (the
// Chaos Mesh CRDs copied in test/fixtures/chaos-mesh/crds), with ajv.
//
// A Kubernetes API server validates a CR against that schema and *prunes* unknown fields
// silently; a typo in a compiled manifest would be dropped, not reported. So the validator is
// stricter than the server on purpose: every object schema that lists its properties (and does
// not preserve unknown fields) refuses others. OpenAPI 3.0 details are translated for ajv:
// boolean `exclusiveMinimum`, `x-kubernetes-int-or-string`, Kubernetes' integer formats.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv) => Ajv;

type Schema = Record<string, unknown>;

function toAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toAjv);
  if (!node || typeof node !== 'object') return node;
  const input = node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toAjv(v)]))
        : toAjv(value);
  }
  if (input['x-kubernetes-int-or-string'] === true) {
    delete out['type'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (input['exclusiveMinimum'] === true && typeof input['minimum'] === 'number') {
    out['exclusiveMinimum'] = input['minimum'];
    delete out['minimum'];
  }
  if (
    input['properties'] &&
    input['additionalProperties'] === undefined &&
    input['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out['additionalProperties'] = false;
  }
  return out;
}

export interface CrdValidator {
  /** The kinds it knows (`NetworkChaos`, …). */
  kinds: string[];
  /** Problems of one object, as `path: message` lines; empty when valid. */
  validate(object: { apiVersion?: unknown; kind?: unknown }): string[];
}

/** Loads every CRD in `dir` (YAML files whose kind is CustomResourceDefinition). */
export function loadCrdValidator(dir: string): CrdValidator {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const format of ['int32', 'int64', 'byte']) ajv.addFormat(format, true);
  const validators = new Map<string, ValidateFunction>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(dir, name), 'utf8')) as {
      kind: string;
      spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
      };
    };
    if (crd.kind !== 'CustomResourceDefinition') continue;
    for (const version of crd.spec.versions) {
      validators.set(
        `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`,
        ajv.compile(toAjv(version.schema.openAPIV3Schema) as Schema),
      );
    }
  }
  return {
    kinds: [...validators.keys()].map((k) => k.split('/').pop()!),
    validate(object) {
      const key = `${String(object.apiVersion)}/${String(object.kind)}`;
      const validate = validators.get(key);
      if (!validate) return [`no CRD for ${key}`];
      if (validate(object)) return [];
      return (validate.errors ?? []).map(
        (e: ErrorObject) =>
          `${e.instancePath || '/'}: ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`,
      );
    },
  };
}
