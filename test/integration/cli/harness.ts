/**
 * Shared setup of the CLI integration tests: the real CLI (`main(argv)` in-process, or the npm bin as a child
 * process) against a real emulator on a free port, the real AWS SDK over HTTP in between. Admin endpoints are
 * called over HTTP as any client would; golden files compare the stable `plan -o json` document.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import {
  type Emulator,
  type EmulatorOptions,
  emulatorAdmin,
  loadSeedFile,
  type SeedDocument,
  startEmulator,
} from '../../../src/emulator/index.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(REPO, 'test/fixtures/cli');
export const NODE = join(REPO, 'node_modules/.bin/node');
export const BIN = join(REPO, 'bin/lambda-policy-controller.js');

/** Tuesday 10:00 in Berlin: inside every business-hours window of the fixtures. */
export const NOW = '2026-12-01T09:00:00Z';
export const REGIONS = 'eu-central-1,us-east-1';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function chunkText(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString('utf8');
  return String(chunk);
}

/**
 * Runs the CLI in-process through `main(argv)`, capturing what it writes to stdout and stderr. Captures only
 * while `main` runs, so vitest's own output is never swallowed.
 */
export async function runCli(argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const capture = (into: string[]) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      into.push(chunkText(chunk));
      // Honour the write callback, as a stream would.
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  const stdoutSpy = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out));
  const stderrSpy = vi.spyOn(process.stderr, 'write').mockImplementation(capture(err));
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdoutSpy.mockRestore();
    stderrSpy.mockRestore();
  }
}

/** Runs the npm bin as a real child process with the project's Node (>= 22.18: runs the TypeScript sources). */
export function runBin(argv: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [BIN, ...argv], { cwd: REPO, env: cleanEnv(options.env) });
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

/** The environment for child processes: no AWS region/credentials leak in from the machine. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') || key === 'AWS_CA_BUNDLE') env[key] = value;
  }
  return { ...env, ...extra };
}

/** A free TCP port on loopback (for commands that take a fixed --port). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Waits until a child process prints a line matching `pattern` on stdout; rejects if it exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const onData = (d: Buffer): void => {
      buffered += d.toString('utf8');
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        cleanup();
        resolvePromise(line);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}; stdout: ${buffered}`));
    };
    const cleanup = (): void => {
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface TestEmulator {
  emulator: Emulator;
  url: string;
  admin: <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;
  writes: () => Promise<WriteEntry[]>;
  functionState: (region: string, name: string) => FunctionView;
  regionState: (region: string) => RegionView;
  stop: () => Promise<void>;
}

export interface WriteEntry {
  seq: number;
  /** ISO instant on the emulator clock. */
  time: string;
  region: string;
  api: string;
  function?: string;
  resourceId?: string;
  params: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export type RegionView = NonNullable<ReturnType<Emulator['state']>['regions'][string]>;
export type FunctionView = RegionView['functions'][number];

/**
 * A real emulator on a free port whose clock starts at `now` (default NOW). The real-time scheduler tick is off:
 * scheduled actions fire only when a test moves the clock (or on requests), so nothing fires by accident.
 */
export async function startTestEmulator(
  seed: SeedDocument | string,
  options: Omit<EmulatorOptions, 'seed' | 'port'> = {},
): Promise<TestEmulator> {
  const doc = typeof seed === 'string' ? await loadSeedFile(seed) : seed;
  const emulator = await startEmulator({ port: 0, tickMs: 0, now: new Date(NOW), ...options, seed: doc });
  const admin = <T = unknown>(method: string, path: string, body?: unknown): Promise<T> =>
    emulatorAdmin<T>(emulator.url, method, path, body);
  const regionState = (region: string): RegionView => {
    const view = emulator.state().regions[region];
    if (!view) throw new Error(`emulator has no region ${region}`);
    return view;
  };
  return {
    emulator,
    url: emulator.url,
    admin,
    writes: async () => (await admin<{ writes: WriteEntry[] }>('GET', 'writes')).writes,
    regionState,
    functionState: (region, name) => {
      const fn = regionState(region).functions.find((f) => f.name === name);
      if (!fn) throw new Error(`emulator has no function ${region}/${name}`);
      return fn;
    },
    stop: () => emulator.stop(),
  };
}

/** The common `--aws-endpoint URL --regions ... --now ...` tail of plan/apply. */
export function awsArgs(url: string, now: string = NOW): string[] {
  return ['--aws-endpoint', url, '--regions', REGIONS, '--now', now];
}

/**
 * Compares a `plan -o json` document with a checked-in golden file; `UPDATE_GOLDEN=1` rewrites the file instead.
 * Compared as parsed JSON so a failure shows vitest's structural diff (array order matters, key order does not).
 */
export async function expectGolden(stdout: string, goldenName: string): Promise<void> {
  const path = join(FIXTURES, goldenName);
  const actual: unknown = JSON.parse(stdout);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(path, `${JSON.stringify(actual, null, 2)}\n`);
    return;
  }
  let expected: unknown;
  try {
    expected = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new Error(`golden file ${path} is missing or not JSON; run with UPDATE_GOLDEN=1 to create it`, { cause });
  }
  expect(actual, `plan -o json differs from ${goldenName} (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toEqual(
    expected,
  );
}

/** The `plan -o json` / `apply -o json` document, typed loosely for assertions. */
export interface PlanDoc {
  now: string;
  summary: Record<string, number>;
  functions: {
    region: string;
    name: string;
    compliant: boolean;
    drift: { field: string; desired: unknown; actual: unknown; policy: string }[];
    actions: ({ api: string } & Record<string, unknown>)[];
    refusals: { field: string; reason: string; message: string; policy: string }[];
    overridden: { field: string; policy: string; winner: string }[];
    auditDrift: { field: string; desired: unknown; actual: unknown; policy: string }[];
  }[];
  policies: ({
    name: string;
    mode: string;
    matched: number;
    problems: string[];
    rollout?: { changing: number; matched: number; thisRun: number; stopped: boolean; limit?: string };
  } & Record<string, unknown>)[];
  executions?: { region: string; name: string; ok: boolean; outcomes: { api: string; status: string }[] }[];
  after?: PlanDoc;
}

export function parsePlan(stdout: string): PlanDoc {
  return JSON.parse(stdout) as PlanDoc;
}

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}
