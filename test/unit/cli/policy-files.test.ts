import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPolicies, skippedByKind, skippedNotes } from '../../../src/cli/policy-files.ts';

const policy = (name: string, namespace = 'platform') => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { functionNames: ["${name}-*"] }
  settings: { memorySize: 1024 }
`;

const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { a: b }\n';
const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: platform }\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-policy-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const names = (read: Awaited<ReturnType<typeof readPolicies>>) =>
  read.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

describe('readPolicies', () => {
  it('reads a GitOps folder as it is: other kinds and kustomization.yaml are counted, Namespaces read', async () => {
    // Arrange
    await writeFile(join(dir, 'kustomization.yaml'), 'resources:\n  - policies.yaml\n  - namespace.yaml\n');
    await writeFile(join(dir, 'namespace.yaml'), namespace);
    await writeFile(join(dir, 'policies.yaml'), `${policy('b')}---\n${configMap}---\n${policy('a')}`);
    await writeFile(join(dir, 'README.md'), '# not a manifest\n');

    // Act
    const read = await readPolicies([dir]);

    // Assert
    expect(read.errors).toEqual([]);
    expect(names(read)).toEqual(['platform/a', 'platform/b']);
    expect(read.skipped.map((s) => s.kind).sort()).toEqual(['ConfigMap', 'Kustomization']);
    expect(skippedByKind(read.skipped)).toEqual({ ConfigMap: 1, Kustomization: 1 });
    expect(Object.keys(skippedByKind([...read.skipped].reverse()))).toEqual(['ConfigMap', 'Kustomization']);
    expect(skippedNotes(read.skipped)).toEqual([]);
    // A Namespace is read for its labels (AwsAccount.spec.policyNamespaces selects on them), not skipped.
    expect(read.tenancy?.namespaces.map((n) => n.name)).toEqual(['platform']);
  });

  it('reads .json and .yml, and descends only with recursive', async () => {
    await mkdir(join(dir, 'team-a', 'nested'), { recursive: true });
    await writeFile(join(dir, 'top.yml'), policy('top'));
    await writeFile(
      join(dir, 'team-a', 'json-policy.json'),
      JSON.stringify({
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'LambdaPolicy',
        metadata: { name: 'json' },
        spec: { selector: { functionNames: ['j-*'] }, settings: { timeout: 5 } },
      }),
    );
    await writeFile(join(dir, 'team-a', 'nested', 'deep.yaml'), policy('deep', 'team-a'));

    const flat = await readPolicies([dir]);
    const recursive = await readPolicies([dir], { recursive: true });

    expect(names(flat)).toEqual(['platform/top']);
    expect(names(recursive)).toEqual(['default/json', 'platform/top', 'team-a/deep']);
    expect(recursive.sources).toBe(3);
  });

  it('reads - from stdin, multi-document, beside files', async () => {
    await writeFile(join(dir, 'file.yaml'), policy('from-file'));
    const stdin = Readable.from([Buffer.from(`${namespace}---\n${policy('from-stdin-1')}`), `---\n${policy('x2')}`]);

    const read = await readPolicies([join(dir, 'file.yaml'), '-'], { stdin });

    expect(read.errors).toEqual([]);
    expect(names(read)).toEqual(['platform/from-file', 'platform/from-stdin-1', 'platform/x2']);
    expect(read.skipped).toEqual([]);
    expect(read.tenancy?.namespaces.map((n) => n.name)).toEqual(['platform']);
  });

  it('names stdin, the document and the line of a schema error', async () => {
    const stdin = Readable.from([`${configMap}---\n${policy('bad').replace('memorySize: 1024', 'memorySize: 64')}`]);

    const read = await readPolicies(['-'], { stdin });

    // The ConfigMap has 4 lines, `---` is line 5, the policy's settings line is 11.
    expect(read.errors).toEqual(['<stdin>#1 platform/bad: spec.settings.memorySize: must be >= 128 (line 11)']);
  });

  it('reads AwsAccount documents as grants (not skipped) and notes AwsOrganization (read later)', async () => {
    await writeFile(
      join(dir, 'accounts.yaml'),
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsAccount\nmetadata: { name: prod }\nspec: { accountId: "123456789012", regions: [eu-central-1] }\n',
    );
    await writeFile(
      join(dir, 'org.yaml'),
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsOrganization\nmetadata: { name: o }\n',
    );
    await writeFile(join(dir, 'p.yaml'), policy('p'));

    const read = await readPolicies([dir]);

    expect(read.errors).toEqual([]);
    expect(read.tenancy?.accounts.map((a) => [a.metadata.name, a.spec.accountId])).toEqual([['prod', '123456789012']]);
    expect(skippedByKind(read.skipped)).toEqual({ AwsOrganization: 1 });
    expect(skippedNotes(read.skipped)).toEqual(['AwsOrganization is not read by plan/apply yet']);
  });

  it('names the file, document, account, field and line of an invalid AwsAccount', async () => {
    await writeFile(
      join(dir, 'accounts.yaml'),
      `${namespace}---\napiVersion: lambdapolicy.io/v1alpha1\nkind: AwsAccount\nmetadata: { name: prod }\nspec:\n  accountId: "12345"\n  regions: [eu-central-1]\n`,
    );

    const read = await readPolicies([dir]);

    // The Namespace takes lines 1-3, `---` line 4, the account's accountId is line 9 of the file.
    expect(read.errors).toEqual([expect.stringMatching(/accounts\.yaml#1 prod: spec\.accountId: .*\(line 9\)$/)]);
  });

  it('reports a policy declared twice, a missing path and an empty folder', async () => {
    await writeFile(join(dir, 'a.yaml'), policy('same'));
    await writeFile(join(dir, 'b.yaml'), policy('same'));
    const empty = join(dir, 'empty');
    await mkdir(empty);

    const twice = await readPolicies([dir]);
    const missing = await readPolicies([join(dir, 'nope')]);
    const none = await readPolicies([empty]);

    expect(twice.errors).toEqual([
      `${join(dir, 'b.yaml')}#0 platform/same: declared twice (first in ${join(dir, 'a.yaml')}#0)`,
    ]);
    expect(missing.errors).toEqual([`${join(dir, 'nope')}: no such file or directory`]);
    expect(none.errors).toEqual([`no .yaml/.yml/.json files in ${empty}`]);
  });

  it('a misspelt kind of this project is still an error in a mixed folder', async () => {
    await writeFile(join(dir, 'p.yaml'), policy('p').replace('kind: LambdaPolicy', 'kind: LambdaPolicies'));

    const read = await readPolicies([dir]);

    expect(read.errors).toHaveLength(1);
    expect(read.errors[0]).toContain('kind: must be "LambdaPolicy" (line 2)');
  });
});
