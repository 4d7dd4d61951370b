/**
 * noSecretsInEnvironment never leaks what it finds. Real-looking (invented) credentials are seeded into the
 * emulator; the CLI (plan table and JSON, apply), the controller (status objects, Events, debug logs) and the
 * metrics page are collected, and none of them may hold a value, a prefix of one, or a hash of one — only the
 * variable names.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import type { PassResult } from '../../../src/reconcile/pass.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';
import { runCli } from '../cli/harness.ts';

const REGION = 'eu-central-1';
// Invented, shaped like the real thing; assembled so this file itself holds no scanner-visible credential.
const SECRETS: Record<string, string> = {
  AWS_KEY: ['AKIA', 'Q3ZKX7NVD2PLM8WR'].join(''),
  SIGNING_SECRET_VALUE: ['kF8s2LpQ9xZr7VbN3mT6', 'yW1cH4jD5gA0eU8iO2qR'].join(''),
  DB_PASSWORD: 'Tr0ub4dor&3-horse-staple',
  GITHUB: ['ghp_', 'Lm9Qx2Rt7Vb4Nc8Zk1Pw5Sd3Fh6Jg0Ty2Ua'].join(''),
  TLS_KEY: ['-----BEGIN PRIVATE', ' KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----'].join(''),
  DATABASE_URL: 'postgres://svc_ledger:Zq8vLx2mNp4t@pg7.internal:5432/ledgerdb',
};
const ALLOWED = {
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf',
  LOG_LEVEL: 'INFO',
};

const SEED = {
  functions: [
    { name: 'orders-api', region: REGION, memorySize: 512, timeout: 30, environment: { ...SECRETS, ...ALLOWED } },
    { name: 'orders-clean', region: REGION, memorySize: 512, timeout: 30, environment: ALLOWED },
  ],
};

const POLICY = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: baseline, namespace: platform }
spec:
  interval: 30s
  selector: { regions: [${REGION}], functionNames: ["orders-*"] }
  settings: { memorySize: 1024 }
  checks: { noSecretsInEnvironment: true }
`;

/** Everything that would betray a value: itself, any 6-character window of it, and its common hashes. */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    const probes = new Set<string>([value]);
    for (let i = 0; i + 6 <= value.length; i += 3) {
      const window = value.slice(i, i + 6);
      // Windows that are ordinary words of the output ("-----", "KEY---", "postgr") say nothing about the value.
      if (/^[-A-Z ]+$|^(postgr|ostgre|stgres)/.test(window)) continue;
      probes.add(window);
    }
    for (const algo of ['sha256', 'sha1', 'md5']) {
      probes.add(createHash(algo).update(value).digest('hex'));
      probes.add(createHash(algo).update(value).digest('base64'));
    }
    for (const probe of probes) if (text.includes(probe)) found.push(`${name}: ${JSON.stringify(probe)}`);
  }
  return found;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('noSecretsInEnvironment reports names, never values', () => {
  let dir: string;
  let emulator: Emulator;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-secrets-'));
    await writeFile(join(dir, 'baseline.yaml'), POLICY);
    emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
  });

  afterEach(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('CLI: plan (table and JSON) and apply name the variables and hold no value', async () => {
    const args = ['-f', dir, '--aws-endpoint', emulator.url, '--regions', REGION];
    const json = await runCli(['plan', ...args, '-o', 'json']);
    const table = await runCli(['plan', ...args, '-o', 'table']);
    const applied = await runCli(['apply', ...args, '-o', 'json']);

    const doc = JSON.parse(json.stdout) as { functions: { name: string; violations: { actual: string }[] }[] };
    expect(doc.functions.find((f) => f.name === 'orders-api')?.violations.map((v) => v.actual)).toEqual(
      Object.keys(SECRETS).sort(),
    );
    expect(doc.functions.find((f) => f.name === 'orders-clean')?.violations).toEqual([]);
    expect(table.stdout).toContain('DB_PASSWORD');
    expect(json.code).toBe(2);
    const everything = [json, table, applied].flatMap((r) => [r.stdout, r.stderr]).join('\n');
    expect(leaks(everything)).toEqual([]);
  });

  it('controller: status objects, Events, debug logs and metrics hold no value', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const aws: Aws = createAws({
      regions: [REGION],
      endpoint: emulator.url,
      rates: { lambda: 100, 'lambda-getfunction': 100 },
    });
    const source = new FilePolicySource([dir], { debounceMs: 50 });
    const sink = new MemoryStatusSink();
    const metrics = new ControllerMetrics({ processMetrics: false });
    const passes: PassResult[] = [];
    const manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      logger,
      metrics,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50 },
      onPass: (_r, p) => passes.push(p),
    });
    await source.start();
    manager.start();
    try {
      const status = await until('a status listing the violating function', () => {
        const s = sink.statuses.get('platform/baseline');
        return s?.functions?.some((f) => f.state === 'Violating') ? s : undefined;
      });
      await until('a pass after the fix', () => (passes.length >= 2 ? true : undefined));

      const entry = status.functions?.find((f) => f.name === 'orders-api');
      expect(entry?.violations?.map((v) => v.actual)).toEqual(Object.keys(SECRETS).sort());
      const page = await metrics.render();
      const everything = [
        JSON.stringify([...sink.statuses.values()]),
        JSON.stringify(sink.events),
        lines.join(''),
        page.body,
        JSON.stringify(passes.map((p) => p.plan)),
      ].join('\n');
      expect(everything).toContain('DB_PASSWORD');
      expect(leaks(everything)).toEqual([]);
    } finally {
      await manager.stop();
      await source.stop();
      aws.destroy();
    }
  });

  it('the emulator’s write log keeps variable names only', async () => {
    const { LambdaClient, UpdateFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient({
      region: REGION,
      endpoint: emulator.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-clean', Environment: { Variables: SECRETS } }),
    );
    lambda.destroy();
    const log = JSON.stringify(emulator.runtime.writes);
    expect(log).toContain('DB_PASSWORD');
    expect(leaks(log)).toEqual([]);
  });
});
