/**
 * `kustomize build | lambda-policy-controller plan -f -`: the npm bin as a child process reading a multi-document
 * stream of mixed kinds from stdin, against the emulator. The plan is the one the policy files give on their own;
 * the other kinds are counted, not errors.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  awsArgs,
  BIN,
  type CliResult,
  cleanEnv,
  fixture,
  NODE,
  parsePlan,
  REPO,
  runCli,
  startTestEmulator,
  type TestEmulator,
} from './harness.ts';
import { kustomizeStyleStream } from './streams.ts';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

/** The npm bin as a child process, `stdin` written to its standard input. */
function runBinWithStdin(argv: string[], stdin: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...argv], { cwd: REPO, env: cleanEnv() });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.end(stdin);
  });
}

describe('plan -f - (stdin)', () => {
  it('plans the policies of a kustomize-style stream of mixed kinds exactly as the files, counting the rest', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const fromStdin = await runBinWithStdin(
      ['plan', '-f', '-', '-o', 'json', ...awsArgs(emu.url)],
      kustomizeStyleStream(),
    );
    const fromFiles = await runCli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    expect(fromStdin.stderr).not.toMatch(/error/i);
    expect(fromStdin.code).toBe(2);
    const stdinDoc = parsePlan(fromStdin.stdout) as unknown as Record<string, unknown>;
    const filesDoc = parsePlan(fromFiles.stdout) as unknown as Record<string, unknown>;
    // Namespaces are read (their labels select AwsAccount grants), so only the ConfigMap is skipped.
    expect(stdinDoc.skipped).toEqual({ ConfigMap: 1 });
    expect({ ...stdinDoc, skipped: {} }).toEqual(filesDoc);
  });

  it('a schema error in the stream names <stdin>, the document and the line; exit 1 before AWS is read', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const stream = kustomizeStyleStream().replace('memorySize: 2048', 'memorySize: 20480');
    const line = stream.split('\n').findIndex((l) => l.includes('memorySize: 20480')) + 1;

    const result = await runBinWithStdin(['plan', '-f', '-', ...awsArgs(emu.url)], stream);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(
        `^error: <stdin>#\\d+ team-a/api-big-memory: spec\\.settings\\.memorySize: must be <= 10240 \\(line ${line}\\)$`,
        'm',
      ),
    );
    expect((await emu.admin<{ total: number }>('GET', 'calls')).total).toBe(0);
  });

  it('an AwsAccount in the stream is read as a grant, not skipped: the run is per account', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const account =
      'apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsAccount\nmetadata:\n  name: prod\nspec:\n  accountId: "123456789012"\n  regions: [eu-central-1]';

    const result = await runBinWithStdin(
      ['plan', '-f', '-', '-o', 'json', ...awsArgs(emu.url)],
      `${account}\n---\n${kustomizeStyleStream()}`,
    );

    expect(result.stderr).not.toMatch(/^note:|error/im);
    expect(result.code).toBe(2);
    const doc = JSON.parse(result.stdout) as {
      skipped: unknown;
      accounts: { account: string }[];
      functions: { account: string }[];
    };
    expect(doc.skipped).toEqual({ ConfigMap: 1 });
    // No namespace is granted `prod` (no policyNamespaces), so only the home account is read.
    expect(doc.accounts.map((a) => a.account)).toEqual(['home']);
    expect(doc.functions.length).toBeGreaterThan(0);
    expect(new Set(doc.functions.map((f) => f.account))).toEqual(new Set(['home']));
  });
});
