/**
 * Inputs the CLI must refuse early and clearly, and the one output it must never lose: an empty policy set exits
 * 1 instead of passing a CI gate having checked nothing; a FIFO given as a policy file is refused at once (a read
 * would block forever); and `apply` reports the writes it made even when the re-check after them fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsArgs, fixture, parsePlan, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

let emu: TestEmulator | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-inputs-'));
});
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('policy inputs', () => {
  it('an empty policy file: exit 1, "nothing to check", no AWS call', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, '# no policies yet\n---\n');
    const result = await runCli(['plan', '-f', empty, ...awsArgs(emu.url)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: no LambdaPolicy in ${empty}: nothing to check`);
    const calls = await emu.admin<{ total: number }>('GET', 'calls');
    expect(calls.total).toBe(0);
  });

  it('a FIFO as a policy file: refused at once, naming it', async () => {
    const fifo = join(dir, 'policies.yaml');
    execFileSync('mkfifo', [fifo]);
    const result = await runCli([
      'plan',
      '-f',
      fifo,
      '--regions',
      'eu-central-1',
      '--aws-endpoint',
      'http://127.0.0.1:1',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${fifo}: is a FIFO; policy files must be regular files`);
  });
});

describe('apply whose re-check fails', () => {
  it('still prints every write it made (JSON and table), then exits 1 with the re-check error', async () => {
    for (const output of ['json', 'table'] as const) {
      emu = await startTestEmulator(fixture('small-fleet.yaml'));
      // The first pass's ListFunctions answers (one page per region) pass; every later one is a proxy's 502 page.
      await emu.admin('POST', 'faults', { answers: [{ api: 'ListFunctions', kind: 'html', skip: 2, count: 100 }] });
      const result = await runCli(['apply', '-f', fixture('policies'), '-o', output, ...awsArgs(emu.url)]);
      const made = (await emu.writes()).filter((w) => w.ok);
      expect(made.length).toBeGreaterThan(0);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/error: re-check after apply failed: .*ListFunctions/);
      if (output === 'json') {
        const doc = parsePlan(result.stdout);
        const reported = (doc.executions ?? []).flatMap((e) => e.outcomes.filter((o) => o.status === 'applied'));
        expect(reported).toHaveLength(made.length);
        expect(doc.after).toBeNull();
      } else {
        expect(result.stdout).toContain(`applied ${made.length} changes to`);
        expect(result.stdout).toContain('after apply: the re-check failed');
      }
      await emu.stop();
      emu = undefined;
    }
  });
});
