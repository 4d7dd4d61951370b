/**
 * The chart's values contract without helm: values.yaml validates against values.schema.json, the schema refuses
 * unknown keys and wrong types at every level, every key is documented, and README.md's values reference is what
 * the generator makes from the chart now (so CI fails when it is stale).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  chartReadme,
  type JsonSchema,
  REFERENCE_END,
  REFERENCE_START,
  renderReference,
  ValuesReferenceError,
  valuesReference,
  withReference,
} from '../../e2e/chart/support/values-reference.ts';

const CHART_DIR = join(import.meta.dirname, '..', '..', '..', 'charts', 'lambda-policy-controller');
const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as JsonSchema;
const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** The defaults with one value replaced at a dotted path. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(defaults);
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) as string] = value;
  return copy;
}

function objectsWithProperties(node: JsonSchema, path: string, out: string[]): string[] {
  if (node.properties) {
    if (node.additionalProperties !== false) out.push(path || '(root)');
    for (const [key, child] of Object.entries(node.properties)) objectsWithProperties(child, `${path}.${key}`, out);
  }
  for (const child of node.anyOf ?? []) objectsWithProperties(child, path, out);
  if (node.items) objectsWithProperties(node.items, `${path}[]`, out);
  return out;
}

describe('values.schema.json', () => {
  it('accepts the chart defaults', () => {
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
  });

  it('closes every object it describes (unknown keys are refused, not ignored)', () => {
    expect(objectsWithProperties(schema, '', [])).toEqual([]);
  });

  it.each([
    ['an unknown top-level key', 'replicas', 2],
    ['a misspelt nested key', 'image.tags', 'v1'],
    ['the removed leaderElection switch (always on now)', 'leaderElection', { enabled: false }],
    ['a string for an integer', 'replicaCount', 'two'],
    ['zero replicas', 'replicaCount', 0],
    ['an unknown pull policy', 'image.pullPolicy', 'Sometimes'],
    ['a digest that is not sha256', 'image.digest', 'latest'],
    ['a tag with a digest in it', 'image.tag', '1.0@sha256:abc'],
    ['a region that is not one', 'aws.regions', ['Frankfurt']],
    ['no region at all', 'aws.regions', []],
    ['an endpoint without a scheme', 'aws.endpoint', 'emulator:4566'],
    ['an unknown log level', 'logLevel', 'verbose'],
    ['an unknown log format', 'logFormat', 'pretty'],
    ['a log level the controller does not take', 'logLevel', 'fatal'],
    ['a probe key the template does not read', 'livenessProbe.httpGet', { path: '/' }],
    ['a resources key that is not requests/limits', 'resources.request', { cpu: '1' }],
    ['a memory quantity that is not one', 'resources.limits.memory', '1 GB'],
    ['a spread constraint without topologyKey', 'topologySpreadConstraints', [{ maxSkew: 1 }]],
    ['a PDB percentage without %', 'podDisruptionBudget.maxUnavailable', 'half'],
    ['rbac as a string', 'rbac.create', 'yes'],
  ])('refuses %s', (_name, path, value) => {
    expect(validate(withValue(path, value))).toBe(false);
  });

  it.each([
    ['a digest', 'image.digest', `sha256:${'0'.repeat(64)}`],
    ['a registry with a port', 'image.registry', 'registry.local:5000'],
    ['an emulator endpoint', 'aws.endpoint', 'http://emulator.lpc-system:4566'],
    ['a PDB percentage', 'podDisruptionBudget.minAvailable', '50%'],
    ['a value passed down by a parent chart', 'global', { imageRegistry: 'x' }],
    [
      'a zone spread',
      'topologySpreadConstraints',
      [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
    ],
  ])('accepts %s', (_name, path, value) => {
    expect(validate(withValue(path, value)), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('the values reference', () => {
  it('README.md holds the reference generated from values.yaml and the schema (run npm run generate:chart-docs)', () => {
    const { current, generated } = chartReadme(CHART_DIR);

    expect(current).toBe(generated);
  });

  it('documents a key from its "# --" comment, with the schema type and the default', () => {
    const rows = valuesReference(
      '# header, not a description\n\n# -- How many.\nreplicaCount: 1\nimage:\n  # -- Pull it so.\n  pullPolicy: Never\n',
      {
        properties: {
          replicaCount: { type: 'integer' },
          image: { properties: { pullPolicy: { type: 'string', enum: ['Always', 'Never'] } } },
        },
      },
    );

    expect(rows).toEqual([
      { key: 'replicaCount', type: 'integer', default: '`1`', description: 'How many.' },
      { key: 'image.pullPolicy', type: 'string: `Always`, `Never`', default: '`"Never"`', description: 'Pull it so.' },
    ]);
    expect(renderReference(rows)).toContain(
      '| `image.pullPolicy` | string: `Always`, `Never` | `"Never"` | Pull it so. |',
    );
  });

  it.each([
    ['an undocumented key', 'a: 1\n', { properties: { a: { type: 'integer' } } }, 'a: no "# --" comment'],
    ['a key the schema does not know', '# -- A.\na: 1\n', { properties: {} }, 'a: in values.yaml but not in'],
    [
      'a schema key values.yaml lacks',
      '# -- A.\na: 1\n',
      { properties: { a: { type: 'integer' }, b: { type: 'string' } } },
      'b: in values.schema.json but not in values.yaml',
    ],
  ] as const)('fails on %s', (_name, yaml, schemaText, message) => {
    expect(() => valuesReference(yaml, schemaText as JsonSchema)).toThrow(ValuesReferenceError);
    expect(() => valuesReference(yaml, schemaText as JsonSchema)).toThrow(message);
  });

  it('replaces only the text between the markers', () => {
    const readme = `# T\n\n${REFERENCE_START}\nold\n${REFERENCE_END}\n\nafter\n`;

    expect(withReference(readme, 'new')).toBe(`# T\n\n${REFERENCE_START}\nnew\n${REFERENCE_END}\n\nafter\n`);
    expect(() => withReference('# no markers', 'new')).toThrow(ValuesReferenceError);
  });
});
