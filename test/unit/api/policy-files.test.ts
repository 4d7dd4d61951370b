import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countDocuments, PolicyFileError, readPolicyFile } from '../../../src/api/policy-files.ts';
import { loadPolicyFiles } from '../../../src/sources/files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LIMITS = { fileBytes: 1024, documentsPerFile: 3 };

describe('readPolicyFile', () => {
  it('reads a regular file within the limits', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, 'a: 1\n---\nb: 2\n');
    expect(await readPolicyFile(path, LIMITS)).toBe('a: 1\n---\nb: 2\n');
  });

  it('refuses a FIFO without opening it (a read would block until someone writes)', async () => {
    const path = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [path]);
    const err = await readPolicyFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyFileError);
    expect(err).toMatchObject({ code: 'NotRegularFile', file: path, message: expect.stringContaining('a FIFO') });
  });

  it('refuses a device', async () => {
    await expect(readPolicyFile('/dev/zero')).rejects.toMatchObject({ code: 'NotRegularFile' });
  });

  it('refuses a file above the size limit before reading it', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, 'x'.repeat(1025));
    await expect(readPolicyFile(path, LIMITS)).rejects.toMatchObject({
      code: 'TooLarge',
      message: expect.stringContaining('at most 1024 bytes'),
    });
  });

  it('refuses more documents than the limit', async () => {
    const path = join(dir, 'many.yaml');
    await writeFile(path, 'a: 1\n---\nb: 1\n---\nc: 1\n---\nd: 1\n');
    await expect(readPolicyFile(path, LIMITS)).rejects.toMatchObject({ code: 'TooManyDocuments' });
  });

  it('counts document starts', () => {
    expect(countDocuments('')).toBe(1);
    expect(countDocuments('---\na: 1\n')).toBe(1);
    expect(countDocuments('a: 1\n---\nb: 2\n---\n')).toBe(3);
  });

  it('the default limit refuses a 5 MiB file when loading policies, naming the file', async () => {
    const path = join(dir, 'huge.yaml');
    await writeFile(path, `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const set = await loadPolicyFiles([path]);
    expect(set.policies).toEqual([]);
    expect(set.errors).toEqual([
      expect.stringMatching(new RegExp(`^${path}: is \\d+ bytes; a policy file may have at most`)),
    ]);
  });
});

describe('a YAML alias bomb', () => {
  const bomb = (() => {
    const lines = ['a0: &a0 [x]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    return `${lines.join('\n')}\n`;
  })();

  it('is an error of its document, naming the file, not an exception of the whole read', async () => {
    const path = join(dir, 'bomb.yaml');
    await writeFile(path, bomb);
    const set = await loadPolicyFiles([path]);
    expect(set.policies).toEqual([]);
    expect(set.errors).toEqual([expect.stringMatching(/bomb\.yaml#0.*Excessive alias count/)]);
  });

  it('a watched directory keeps its last good set when a file turns into one', async () => {
    const { FilePolicySource } = await import('../../../src/sources/files.ts');
    const path = join(dir, 'p.yaml');
    await writeFile(
      path,
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: LambdaPolicy\nmetadata: {name: api}\nspec:\n  selector: {tags: {tier: api}}\n  settings: {memorySize: 1024}\n',
    );
    const source = new FilePolicySource([path], { debounceMs: 10_000 });
    await source.start();
    expect(source.current().policies).toHaveLength(1);
    await writeFile(path, bomb);
    await source.reload();
    expect(source.current().policies).toHaveLength(1);
    expect(source.current().errors.join('\n')).toMatch(/Excessive alias count/);
    await source.stop();
  });
});
