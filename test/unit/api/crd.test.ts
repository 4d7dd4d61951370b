import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CEL_RULES } from '../../../src/api/cel.ts';
import { buildCrd, buildOpenApiSchema, CRD_FILE, PRINTER_COLUMNS, renderCrdYaml } from '../../../src/api/crd.ts';
import { SchemaConversionError, toStructuralSchema } from '../../../src/api/openapi.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

type Node = Record<string, unknown>;

/** Every schema node with its path, the way the structural-schema rules walk it. */
function* walk(node: Node, path = ''): Generator<[string, Node]> {
  yield [path, node];
  const properties = (node.properties ?? {}) as Record<string, Node>;
  for (const [name, child] of Object.entries(properties)) yield* walk(child, `${path}.${name}`);
  if (node.items) yield* walk(node.items as Node, `${path}[*]`);
  if (typeof node.additionalProperties === 'object') yield* walk(node.additionalProperties as Node, `${path}{*}`);
}

const root = buildOpenApiSchema();
const nodes = [...walk(root)];

describe('generated CRD', () => {
  // crds/ and the Helm chart's crds/ are both written by `npm run generate:crd`, never edited by hand.
  it.each([CRD_FILE, join('charts', 'lambda-policy-controller', CRD_FILE)])('matches the checked-in %s', (file) => {
    const checkedIn = readFileSync(join(REPO, file), 'utf8');

    expect(checkedIn, `${file} is stale: run npm run generate:crd`).toBe(renderCrdYaml());
  });

  it('names the resource as the product contract does', () => {
    const crd = parse(renderCrdYaml()) as { metadata: Node; spec: Node & { names: Node; versions: Node[] } };
    const [version] = crd.spec.versions;

    expect(crd.metadata.name).toBe('lambdapolicies.lambdapolicy.io');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({ kind: 'LambdaPolicy', plural: 'lambdapolicies', shortNames: ['lp'] });
    expect(crd.spec.names.categories).toEqual(expect.arrayContaining(['lambda']));
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    // The contract's columns, then Compliant and its Reason; `-o wide` adds Interval and Last Check.
    expect(PRINTER_COLUMNS.filter((c) => c.priority === undefined).map((column) => column.name)).toEqual([
      'Mode',
      'Matched',
      'Drifted',
      'Ready',
      'Compliant',
      'Reason',
      'Age',
    ]);
    expect(PRINTER_COLUMNS.filter((c) => c.priority === 1).map((column) => column.name)).toEqual([
      'Interval',
      'Last Check',
    ]);
  });

  it.each(nodes.map(([path, node]) => ({ path: path || '<root>', node })))('is structural at $path', ({ node }) => {
    const open = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;

    expect(typeof node.type === 'string' || open).toBe(true);
    expect(node).not.toHaveProperty('anyOf');
    expect(node).not.toHaveProperty('oneOf');
    expect(node).not.toHaveProperty('allOf');
    expect(node).not.toHaveProperty('not');
    expect(node).not.toHaveProperty('const');
    expect(node).not.toHaveProperty('patternProperties');
    expect(node.additionalProperties).not.toBe(false);
    expect(Object.keys(node).filter((key) => key.startsWith('x-') && !key.startsWith('x-kubernetes-'))).toEqual([]);
  });

  it('bounds every string and list a CEL rule can reach, so the cost estimate stays under the budget', () => {
    const unbounded: string[] = [];
    const check = (node: Node, path: string) => {
      if (node.type === 'string' && node.maxLength === undefined && node.enum === undefined) unbounded.push(path);
      if (node.type === 'array' && node.maxItems === undefined) unbounded.push(path);
      if (node.type === 'object' && node.additionalProperties && node.maxProperties === undefined) unbounded.push(path);
    };
    for (const [path, node] of nodes) {
      if (!node['x-kubernetes-validations']) continue;
      for (const [childPath, child] of walk(node, path)) check(child, childPath);
    }

    expect(unbounded).toEqual([]);
  });

  it('keeps defaults and descriptions for kubectl explain', () => {
    const spec = (root.properties as Record<string, Node>).spec as Node;
    const specProperties = spec.properties as Record<string, Node>;

    expect(specProperties.mode).toMatchObject({ type: 'string', default: 'Enforce', enum: ['Enforce', 'Audit'] });
    expect(specProperties.interval).toMatchObject({ default: '5m' });
    expect(specProperties.priority).toMatchObject({ default: 0 });
    expect(
      nodes
        .filter(([path]) => /^\.spec\.[a-z]+$/i.test(path))
        .every(([, node]) => typeof node.description === 'string'),
    ).toBe(true);
  });

  it('turns reservedConcurrency into int-or-string guarded by its CEL rule', () => {
    const node = nodes.find(([path]) => path === '.spec.settings.reservedConcurrency')?.[1];

    expect(node).toMatchObject({
      'x-kubernetes-int-or-string': true,
      'x-kubernetes-validations': [CEL_RULES.reservedConcurrencyValue],
    });
  });

  it('makes windows and conditions list-maps keyed by name and type', () => {
    const windows = nodes.find(([path]) => path === '.spec.settings.provisionedConcurrency.windows')?.[1];
    const conditions = nodes.find(([path]) => path === '.status.conditions')?.[1];

    expect(windows).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    expect(conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
  });

  it('caps the status function list at 50 and leaves only drift values and violation actuals open', () => {
    const functions = nodes.find(([path]) => path === '.status.functions')?.[1];
    const open = nodes
      .filter(([, node]) => node['x-kubernetes-preserve-unknown-fields'] === true)
      .map(([path]) => path);

    expect(functions).toMatchObject({ maxItems: 50 });
    expect(open).toEqual([
      '.status.functions[*].drift[*].desired',
      '.status.functions[*].drift[*].actual',
      '.status.functions[*].violations[*].actual',
      // A served version's drift: the same shape as the function's own.
      '.status.functions[*].qualifiers[*].fields[*].desired',
      '.status.functions[*].qualifiers[*].fields[*].actual',
    ]);
  });

  it('attaches every CEL rule of cel.ts somewhere in the schema', () => {
    const attached = new Set(nodes.flatMap(([, node]) => (node['x-kubernetes-validations'] ?? []) as unknown[]));

    for (const [name, rule] of Object.entries(CEL_RULES)) {
      expect(
        [...attached].some((candidate) => JSON.stringify(candidate) === JSON.stringify(rule)),
        name,
      ).toBe(true);
    }
  });

  it('is a valid apiextensions.k8s.io/v1 object', () => {
    const crd = buildCrd();

    expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' });
  });
});

describe('toStructuralSchema', () => {
  it.each([
    {
      name: 'literal union',
      input: { anyOf: [{ const: 'a' }, { const: 'b' }] },
      output: { type: 'string', enum: ['a', 'b'] },
    },
    {
      name: 'record',
      input: { type: 'object', patternProperties: { '^.*$': { type: 'string' } } },
      output: { type: 'object', additionalProperties: { type: 'string' } },
    },
    {
      name: 'closed object',
      input: { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false },
      output: { type: 'object', properties: { a: { type: 'integer' } } },
    },
    {
      name: 'int or string',
      input: {
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', const: 'X' },
        ],
        description: 'd',
      },
      output: { 'x-kubernetes-int-or-string': true, description: 'd' },
    },
    { name: 'private annotation', input: { type: 'string', 'x-error-message': 'm' }, output: { type: 'string' } },
  ])('converts a $name', ({ input, output }) => {
    expect(toStructuralSchema(input)).toEqual(output);
  });

  it.each([
    { name: 'an untyped node', input: { description: 'anything' } },
    { name: 'a union of objects', input: { anyOf: [{ type: 'object' }, { type: 'string' }] } },
    { name: 'an unknown keyword', input: { type: 'string', if: {} } },
    { name: 'a map with a key pattern', input: { type: 'object', patternProperties: { '^a': { type: 'string' } } } },
  ])('refuses $name', ({ input }) => {
    expect(() => toStructuralSchema(input)).toThrow(SchemaConversionError);
  });
});
