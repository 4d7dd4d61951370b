import { describe, expect, it } from 'vitest';
import { PolicyDocumentError, PolicyParseError } from '../../../src/api/errors.ts';
import { parsePolicies, parsePoliciesOrThrow, toPolicyInput } from '../../../src/api/parse.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';

const doc = (name: string, extra = '') => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata:
  name: ${name}
spec:
  selector:
    functionNames: ["orders-*"]
  settings:
    memorySize: 1024${extra}
`;

describe('parsePolicies', () => {
  it('reads every document of a multi-document file, with defaults applied', () => {
    const text = `${doc('a')}---\n${doc('b')}`;

    const { policies, errors } = parsePolicies(text, 'policies/api.yaml');

    expect(errors).toEqual([]);
    expect(policies.map((parsed) => [parsed.policy.metadata.name, parsed.docIndex, parsed.source])).toEqual([
      ['a', 0, 'policies/api.yaml'],
      ['b', 1, 'policies/api.yaml'],
    ]);
    expect(policies[0]?.policy.spec.mode).toBe('Enforce');
    expect(policies[0]?.policy.metadata.namespace).toBe('default');
  });

  it('names file, document and policy in each error, and keeps the valid documents', () => {
    const text = `${doc('good')}---\n${doc('bad', '\n    timeout: 901')}`;

    const { policies, errors } = parsePolicies(text, 'policies/api.yaml');

    expect(policies.map((parsed) => parsed.policy.metadata.name)).toEqual(['good']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PolicyDocumentError);
    // The line counts from the top of the file, not of the document (doc b starts on line 11).
    expect(errors[0]?.message).toBe('policies/api.yaml#1 bad: spec.settings.timeout: must be <= 900 (line 20)');
    expect(errors[0]).toMatchObject({
      code: 'PolicyInvalid',
      source: 'policies/api.yaml',
      docIndex: 1,
      policyName: 'bad',
    });
  });

  it('names a namespaced policy as namespace/name', () => {
    const text = doc('bad', '\n    timeout: 0').replace('  name: bad', '  name: bad\n  namespace: platform');

    const { errors } = parsePolicies(text, 'p.yaml');

    expect(errors[0]?.message).toBe('p.yaml#0 platform/bad: spec.settings.timeout: must be >= 1 (line 11)');
  });

  it('prints one line per issue of a document', () => {
    const text = doc('bad', '\n    timeout: 0\n    architecture: arm');

    const { errors } = parsePolicies(text, 'p.yaml');

    expect(errors[0]?.message.split('\n')).toEqual([
      'p.yaml#0 bad: spec.settings.timeout: must be >= 1 (line 10)',
      'p.yaml#0 bad: spec.settings.architecture: must be one of: x86_64, arm64 (line 11)',
    ]);
    expect(errors[0]?.issues.map((issue) => issue.line)).toEqual([10, 11]);
  });

  it('gives the line of a list item, of a key in flow style, and of the parent of a missing field', () => {
    const text = [
      'apiVersion: lambdapolicy.io/v1alpha1', // 1
      'kind: LambdaPolicy',
      'metadata: { name: lines }',
      'spec:',
      '  selector:', // 5
      '    tagExpressions:',
      '      - { key: team, operator: Like }',
      '  settings:',
      '    provisionedConcurrency:',
      '      qualifier: live', // 10
      '      value: 1',
      '      windows:',
      '        - name: a',
      '          start: "0 8 * * *"',
      '          end: "0 9 * * *"', // 15
      '        - name: b',
      '          start: "0 99 * * *"',
      '          end: "0 10 * * *"',
      '        - name: c', // 19: no start, no end
      '',
    ].join('\n');

    const { errors } = parsePolicies(text, 'l.yaml');

    const lines = Object.fromEntries((errors[0]?.issues ?? []).map((issue) => [issue.path, issue.line]));
    expect(lines['spec.settings.provisionedConcurrency.windows[1].start']).toBe(17);
    expect(lines['spec.settings.provisionedConcurrency.windows[2].start']).toBe(19);
    expect(lines['spec.settings.provisionedConcurrency.windows[2].end']).toBe(19);
    expect(lines['spec.selector.tagExpressions[0].operator']).toBe(7);
  });

  it('reads JSON documents the same way, with lines', () => {
    const json = JSON.stringify(
      {
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'LambdaPolicy',
        metadata: { name: 'from-json' },
        spec: { selector: { functionNames: ['a-*'] }, settings: { timeout: 1000 } },
      },
      null,
      2,
    );

    const { policies, errors } = parsePolicies(json, 'p.json');

    expect(policies).toEqual([]);
    const lineOfTimeout = json.split('\n').findIndex((line) => line.includes('"timeout"')) + 1;
    expect(errors[0]?.message).toBe(
      `p.json#0 from-json: spec.settings.timeout: must be <= 900 (line ${lineOfTimeout})`,
    );
    expect(parsePolicies(json.replace('1000', '10'), 'p.json').policies).toHaveLength(1);
  });

  it('reports YAML syntax errors with the document and line', () => {
    const text = `${doc('a')}---\nspec: [unclosed\n`;

    const { policies, errors } = parsePolicies(text, 'broken.yaml');

    expect(policies).toHaveLength(1);
    expect(errors[0]?.code).toBe('YamlSyntax');
    expect(errors[0]?.message).toMatch(/^broken\.yaml#1: invalid YAML \(line \d+, column \d+\): /);
  });

  it('refuses duplicate keys, which YAML parsers would otherwise resolve silently', () => {
    const { errors } = parsePolicies(doc('a', '\n    memorySize: 2048'), 'dup.yaml');

    expect(errors[0]?.code).toBe('YamlSyntax');
  });

  it('skips empty documents and comments-only files', () => {
    expect(parsePolicies(`---\n${doc('a')}---\n# nothing\n---\n`, 'f.yaml').policies).toHaveLength(1);
    expect(parsePolicies('', 'empty.yaml')).toEqual({ policies: [], errors: [], accounts: [], namespaces: [] });
    expect(parsePolicies('# just a comment\n', 'c.yaml')).toEqual({
      policies: [],
      errors: [],
      accounts: [],
      namespaces: [],
    });
  });

  it('reports other kinds unless told to skip them', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\n${doc('a')}`;

    expect(parsePolicies(text, 'mixed.yaml').errors[0]?.message).toContain(
      'mixed.yaml#0 x: apiVersion: must be "lambdapolicy.io/v1alpha1"',
    );
    expect(parsePolicies(text, 'mixed.yaml', { ignoreOtherKinds: true })).toMatchObject({
      errors: [],
      policies: [{ docIndex: 1 }],
      skipped: [{ source: 'mixed.yaml', docIndex: 0, apiVersion: 'v1', kind: 'ConfigMap' }],
    });
  });

  it("skipping other kinds never hides a mistake in this project's own group, nor a document without a kind", () => {
    const text = [
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: LambdaPolicies\nmetadata: { name: plural }', // misspelt kind
      'apiVersion: lambdapolicy.io/v1\nkind: LambdaPolicy\nmetadata: { name: old }', // unknown version
      'metadata: { name: kindless }\nspec: {}', // not a manifest
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsOrganization\nmetadata: { name: org }', // known, read later
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]',
    ].join('\n---\n');

    const result = parsePolicies(text, 'm.yaml', { ignoreOtherKinds: true });

    expect(result.errors.map((e) => e.docIndex)).toEqual([0, 1, 2]);
    expect(result.errors[0]?.message).toContain('kind: must be "LambdaPolicy"');
    expect(result.errors[1]?.message).toContain('apiVersion: must be "lambdapolicy.io/v1alpha1"');
    expect(result.skipped).toEqual([
      expect.objectContaining({ docIndex: 3, kind: 'AwsOrganization', note: expect.stringContaining('not read') }),
      { source: 'm.yaml', docIndex: 4, apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' },
    ]);
  });

  it('throws every error at once from parsePoliciesOrThrow', () => {
    const text = `${doc('a', '\n    timeout: 0')}---\n${doc('b', '\n    timeout: 1000')}`;

    expect(() => parsePoliciesOrThrow(text, 'f.yaml')).toThrow(PolicyParseError);
    try {
      parsePoliciesOrThrow(text, 'f.yaml');
    } catch (error) {
      expect((error as PolicyParseError).errors.map((e) => e.docIndex)).toEqual([0, 1]);
    }
    expect(parsePoliciesOrThrow(doc('ok'), 'f.yaml').map((policy) => policy.metadata.name)).toEqual(['ok']);
  });
});

describe('toPolicyInput', () => {
  it('identifies the policy as namespace/name and converts the interval to seconds', () => {
    const [policy] = parsePoliciesOrThrow(
      doc('api-tier')
        .replace('  name: api-tier', '  name: api-tier\n  namespace: platform')
        .replace('spec:\n', 'spec:\n  interval: 1h30m\n  priority: 5\n'),
      'f.yaml',
    );

    const input = toPolicyInput(policy as LambdaPolicy);

    expect(input).toEqual({
      id: 'platform/api-tier',
      namespace: 'platform',
      name: 'api-tier',
      mode: 'Enforce',
      priority: 5,
      suspend: false,
      intervalSeconds: 5400,
      selector: { functionNames: ['orders-*'] },
      settings: { memorySize: 1024 },
      iacManaged: 'Audit',
    });
  });

  it('resolves documented defaults even for a policy that skipped validation', () => {
    const policy: LambdaPolicy = {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'LambdaPolicy',
      metadata: { name: 'raw' },
      spec: { selector: { tags: { a: 'b' } }, settings: {} },
    };

    expect(toPolicyInput(policy)).toMatchObject({
      id: 'default/raw',
      namespace: 'default',
      mode: 'Enforce',
      priority: 0,
      suspend: false,
      intervalSeconds: 300,
    });
  });

  it.each([
    ['90s', 90],
    ['1.5m', 90],
    ['30s', 30],
    ['2h', 7200],
  ])('interval %s is %d seconds', (interval, seconds) => {
    const [policy] = parsePoliciesOrThrow(doc('p').replace('spec:\n', `spec:\n  interval: ${interval}\n`), 'f.yaml');

    expect(toPolicyInput(policy as LambdaPolicy).intervalSeconds).toBe(seconds);
  });
});
