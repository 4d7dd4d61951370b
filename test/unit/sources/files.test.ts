import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicySet } from '../../../src/api/policy-set.ts';
import { FilePolicySource, loadPolicyFiles } from '../../../src/sources/files.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const policyYaml = (name: string, memorySize = 1024, namespace?: string) => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}spec:
  selector:
    functionNames: ["${name}-*"]
  settings:
    memorySize: ${memorySize}
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadPolicyFiles', () => {
  it('reads multi-document files and directories, sorted, with the default namespace', async () => {
    await writeFile(join(dir, 'b.yaml'), `${policyYaml('zeta')}---\n${policyYaml('alpha', 512, 'team')}\n---\n`);
    await writeFile(join(dir, 'a.yml'), policyYaml('beta'));
    await writeFile(join(dir, 'notes.txt'), 'not a policy');
    await writeFile(join(dir, '.hidden.yaml'), 'garbage: [');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.yaml'), policyYaml('nested'));
    const set = await loadPolicyFiles([dir]);
    expect(set.errors).toEqual([]);
    expect(set.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      'default/beta',
      'default/zeta',
      'team/alpha',
    ]);
    const recursive = await loadPolicyFiles([dir], { recursive: true });
    expect(recursive.policies.map((p) => p.metadata.name)).toContain('nested');
  });

  it('reports bad documents by file and index, keeps the good ones', async () => {
    const file = join(dir, 'mixed.yaml');
    await writeFile(file, `${policyYaml('good')}---\n${policyYaml('bad', 99)}`);
    const set = await loadPolicyFiles([file]);
    expect(set.policies.map((p) => p.metadata.name)).toEqual(['good']);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]).toContain(`${file}#1`);
    expect(set.errors[0]).toContain('memorySize');
  });

  it.each([
    ['a missing path', (d: string) => [join(d, 'nope.yaml')], 'no such file'],
    ['an empty directory', (d: string) => [d], 'no .yaml/.yml files'],
  ])('reports %s', async (_name, paths, message) => {
    const set = await loadPolicyFiles(paths(dir));
    expect(set.errors.join('\n')).toContain(message);
  });

  it('reports a policy declared twice', async () => {
    await writeFile(join(dir, 'a.yaml'), policyYaml('same'));
    await writeFile(join(dir, 'b.yaml'), policyYaml('same', 2048));
    const set = await loadPolicyFiles([dir]);
    expect(set.policies).toHaveLength(1);
    expect(set.errors[0]).toMatch(/default\/same: declared twice \(first in .*a\.yaml#0\)/);
  });
});

describe('FilePolicySource', () => {
  it('emits a new set on a real change, nothing on a no-op, and keeps the last good set on errors', async () => {
    const file = join(dir, 'p.yaml');
    await writeFile(file, policyYaml('api'));
    // File system events only schedule a re-read on this clock, which never moves: the test's own reloads are the
    // only ones, so a late fs.watch event cannot race them.
    const source = new FilePolicySource([file], { debounceMs: 10, clock: new FakeClock() });
    const changes: PolicySet[] = [];
    const errors: string[][] = [];
    source.onChange((s) => changes.push(s));
    source.onError((e) => errors.push(e));
    await source.start();
    expect(source.current().policies.map((p) => p.spec.settings.memorySize)).toEqual([1024]);

    await writeFile(file, policyYaml('api', 2048));
    await source.reload();
    expect(changes.map((s) => s.policies[0]?.spec.settings.memorySize)).toEqual([2048]);

    await writeFile(file, `# a comment only changes nothing\n${policyYaml('api', 2048)}`);
    await source.reload();
    expect(changes).toHaveLength(1);

    await writeFile(file, 'apiVersion: lambdapolicy.io/v1alpha1\nkind: LambdaPolicy\nmetadata: {name: api}\nspec: [');
    await source.reload();
    expect(errors).toHaveLength(1);
    expect(source.current().policies.map((p) => p.spec.settings.memorySize)).toEqual([2048]);
    expect(source.current().errors.length).toBeGreaterThan(0);
    await source.stop();
  });

  it('reacts to edits through fs.watch (including replace-by-rename saves)', async () => {
    const file = join(dir, 'p.yaml');
    await writeFile(file, policyYaml('api'));
    const source = new FilePolicySource([dir], { debounceMs: 20 });
    await source.start();
    const next = new Promise<PolicySet>((resolve) => source.onChange(resolve));
    const tmp = join(dir, '.p.yaml.swp');
    await writeFile(tmp, policyYaml('api', 4096));
    const { rename } = await import('node:fs/promises');
    await rename(tmp, file);
    const set = await next;
    expect(set.policies[0]?.spec.settings.memorySize).toBe(4096);
    await source.stop();
  });
});
