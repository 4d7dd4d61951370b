/**
 * checks.runtime from the CLI: the shipped table, `--now` to preview a coming deprecation, and `--runtimes-file`
 * replacing the table (a bad file is refused with the file and the field named, before AWS is read).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGION = 'eu-central-1';
const POLICY = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: runtimes, namespace: platform }
spec:
  mode: Audit
  selector: { functionNames: ["*"] }
  settings: {}
  checks: { runtime: { deprecatedWithinDays: 90 } }
`;

interface Doc {
  functions: { name: string; violations: { check: string; actual: string; message: string }[] }[];
}

describe('checks.runtime in plan', () => {
  let dir: string;
  let data: string;
  let emu: TestEmulator;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-runtimes-'));
    data = await mkdtemp(join(tmpdir(), 'lpc-runtimes-data-'));
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    emu = await startTestEmulator({
      functions: [
        { name: 'old', region: REGION, runtime: 'nodejs18.x' },
        { name: 'soon', region: REGION, runtime: 'nodejs22.x' },
        { name: 'new', region: REGION, runtime: 'nodejs24.x' },
      ],
    });
  });
  afterEach(async () => {
    await emu.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(data, { recursive: true, force: true });
  });

  const plan = async (...extra: string[]) => {
    const r = await runCli(['plan', '-f', dir, '--aws-endpoint', emu.url, '--regions', REGION, '-o', 'json', ...extra]);
    return { ...r, doc: r.code === 1 ? undefined : (JSON.parse(r.stdout) as Doc) };
  };
  const flagged = (doc: Doc | undefined) =>
    (doc?.functions ?? []).filter((f) => f.violations.length > 0).map((f) => f.name);

  it('--now previews: what is deprecated within 90 days of that instant', async () => {
    const today = await plan('--now', '2026-12-01T00:00:00Z');
    expect(today.code).toBe(2);
    expect(flagged(today.doc)).toEqual(['old']);
    expect(today.doc?.functions.find((f) => f.name === 'old')?.violations[0]?.message).toContain(
      'nodejs18.x is deprecated since 2025-09-01',
    );
    const february = await plan('--now', '2027-02-15T00:00:00Z');
    expect(flagged(february.doc)).toEqual(['old', 'soon']);
    expect(february.doc?.functions.find((f) => f.name === 'soon')?.violations[0]?.message).toContain(
      'move to nodejs24.x',
    );
  });

  it('--runtimes-file replaces the shipped table', async () => {
    const file = join(data, 'runtimes.yaml');
    await writeFile(
      file,
      'source: internal notice\nruntimes:\n  - { identifier: nodejs24.x, deprecation: "2027-01-01" }\n',
    );
    const r = await plan('--now', '2026-12-01T00:00:00Z', '--runtimes-file', file);
    expect(flagged(r.doc)).toEqual(['new']);
  });

  it.each([
    [
      'an unknown runtime name',
      'runtimes:\n  - { identifier: nodjs20.x, deprecation: "2026-04-30" }\n',
      'runtimes[0].identifier: unknown runtime name "nodjs20.x"',
    ],
    [
      'a date that is not one',
      'runtimes:\n  - { identifier: nodejs20.x, deprecation: "April 2026" }\n',
      'runtimes[0].deprecation: must be a date written YYYY-MM-DD',
    ],
    ['YAML that does not parse', 'runtimes: [\n', 'is not valid YAML'],
  ])('refuses %s, naming the file and the field (exit 1)', async (_name, text, message) => {
    const file = join(data, 'bad-runtimes.yaml');
    await writeFile(file, text);
    const r = await plan('--runtimes-file', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${file}: `);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
