/**
 * The npm package as a user gets it: `npm pack` (prepack builds dist/), the tarball installed into an empty
 * folder, and the installed bin run from there. Before `files` + `prepack`, the tarball had no dist/ and the
 * installed bin died with ERR_MODULE_NOT_FOUND. Dependencies come from npm's local cache when they are there
 * (`--prefer-offline`: the registry only for what the cache lacks).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cleanEnv, NODE, NOW, REPO } from './harness.ts';

/** The project's Node first on PATH: the installed bin's shebang (`env node`) and npm's scripts use it. */
const ENV = cleanEnv({ PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ''}` });

function run(command: string, args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code) =>
      resolvePromise({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

let work: string;
let tarball: string;
let packedFiles: string[];
let installDir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lpc-npm-package-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], REPO);
  if (packed.code !== 0) throw new Error(`npm pack failed (${packed.code}):\n${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no package: ${packed.stdout}`);
  tarball = join(work, info.filename);
  packedFiles = info.files.map((f) => f.path);

  installDir = join(work, 'consumer');
  mkdirSync(installDir);
  writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const installed = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', tarball],
    installDir,
  );
  if (installed.code !== 0) throw new Error(`npm install failed (${installed.code}):\n${installed.stderr}`);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the compiled dist/, the bin, the CRD and the examples, and no sources or tests', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'bin/lambda-policy-controller.js',
        'dist/cli/main.js',
        'dist/cli/doctor-command.js',
        'dist/aws/index.js',
        'dist/emulator/index.js',
        'crds/lambdapolicies.lambdapolicy.io.yaml',
        'examples/fleet.yaml',
      ]),
    );
    const topLevel = new Set(packedFiles.map((p) => p.split('/')[0]));
    expect([...topLevel].sort()).toEqual(['README.md', 'bin', 'crds', 'dist', 'examples', 'package.json']);
    expect(packedFiles.filter((p) => p.endsWith('.ts'))).toEqual([]);
  });

  it('runs `plan --seed` from the installed package in an empty folder (exit 2: the examples drift)', async () => {
    // Arrange: the seed and policies the package itself ships
    const pkg = join(installDir, 'node_modules', 'lambda-policy-controller');
    const bin = join(installDir, 'node_modules', '.bin', 'lambda-policy-controller');

    // Act
    const result = await run(
      bin,
      [
        'plan',
        '--seed',
        join(pkg, 'examples', 'fleet.yaml'),
        '-f',
        join(pkg, 'examples', 'policies'),
        '--now',
        NOW,
        '-o',
        'json',
      ],
      installDir,
    );

    // Assert
    expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(result.code, result.stderr).toBe(2);
    const doc = JSON.parse(result.stdout) as { summary: Record<string, number> };
    // The same fleet and policies as the reviewed golden plan of the repository: the package plans the same.
    const golden = JSON.parse(
      readFileSync(join(REPO, 'test', 'fixtures', 'cli', 'examples.expected.json'), 'utf8'),
    ) as { summary: Record<string, number> };
    expect(doc.summary).toEqual(golden.summary);
  });

  it('runs `doctor --seed` and `--version` from the installed package', async () => {
    const bin = join(installDir, 'node_modules', '.bin', 'lambda-policy-controller');
    const seed = join(installDir, 'node_modules', 'lambda-policy-controller', 'examples', 'fleet.yaml');

    const doctor = await run(bin, ['doctor', '--seed', seed], installDir);
    const version = await run(bin, ['--version'], installDir);

    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('result: every check passed');
    expect(version.stdout.trim()).toBe(
      (await import('../../../package.json', { with: { type: 'json' } })).default.version,
    );
  });
});
