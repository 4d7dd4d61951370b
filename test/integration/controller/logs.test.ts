/**
 * The controller's logs over a real pass against the emulator: one info record per AWS write (policy, function,
 * field, old -> new), and no credential or environment value in any record, in either format, at the most verbose
 * level — even when AWS echoes the caller's access key in an error (as SignatureDoesNotMatch does).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { createLogger } from '../../../src/shared/log-output.ts';
import type { Logger } from '../../../src/shared/logger.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REGION = 'eu-central-1';
// Invented, credential-shaped; assembled so this file holds no scanner-visible credential.
const KEY_ID = ['AKIA', 'Z7QW3ERT5YUI9OPL'].join('');
const SECRET_KEY = ['Hq7sLp2XzR9vBn4Mt6Wy', '1cK3jD8gF5aE0uI2oQ7r'].join('');
const SESSION = ['IQoJb3JpZ2luX2VjE', 'Pr8aSzq9Vn2LxM4tW7yB3cK6jD1gH5fA0eU'].join('');
const ENV_VALUES: Record<string, string> = {
  DB_PASSWORD: 'Tr0ub4dor&3-horse-staple',
  API_TOKEN: ['sk_live_', '51HqLx9Vb2Nc8Zk1Pw5Sd3Fh'].join(''),
  DATABASE_URL: 'postgres://svc_ledger:Zq8vLx2mNp4t@pg7.internal:5432/ledgerdb',
};
const SECRETS = [KEY_ID, SECRET_KEY, SESSION, ...Object.values(ENV_VALUES), 'Zq8vLx2mNp4t'];

const SEED = {
  functions: ['orders-api', 'orders-pay'].map((name) => ({
    name,
    region: REGION,
    memorySize: 512,
    timeout: 30,
    environment: ENV_VALUES,
  })),
};

const POLICY = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: platform }
spec:
  interval: 30s
  selector: { regions: [${REGION}], functionNames: ["orders-*"] }
  settings: { memorySize: 1024, timeout: 30 }
  checks: { noSecretsInEnvironment: true }
`;

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('controller logs', () => {
  let dir: string;
  let emulator: Emulator;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-logs-'));
    await writeFile(join(dir, 'memory.yaml'), POLICY);
    emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
  });

  afterEach(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('one record per write with old -> new; no credential or environment value in json or text', async () => {
    const json: string[] = [];
    const text: string[] = [];
    const a = createLogger({ level: 'trace', destination: { write: (s: string) => json.push(s) } });
    const b = createLogger({ level: 'trace', format: 'text', destination: { write: (s: string) => text.push(s) } });
    const both: Logger = {
      debug: (o, m) => {
        a.debug(o, m);
        b.debug(o, m);
      },
      info: (o, m) => {
        a.info(o, m);
        b.info(o, m);
      },
      warn: (o, m) => {
        a.warn(o, m);
        b.warn(o, m);
      },
      error: (o, m) => {
        a.error(o, m);
        b.error(o, m);
      },
    };
    // The first update fails with an error that echoes the credentials it was signed with.
    emulator.runtime.faults.configure({
      forced: [
        {
          api: 'UpdateFunctionConfiguration',
          error: 'SignatureDoesNotMatchException',
          status: 403,
          message: `Credential=${KEY_ID}/20261201/${REGION}/lambda/aws4_request, secret ${SECRET_KEY}, token ${SESSION}`,
        },
      ],
    });
    const aws: Aws = createAws({
      regions: [REGION],
      endpoint: emulator.url,
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, sessionToken: SESSION },
      rates: { lambda: 100, 'lambda-getfunction': 100 },
    });
    const source = new FilePolicySource([dir], { debounceMs: 50 });
    const sink = new MemoryStatusSink();
    const manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      logger: both,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50, logger: both },
    });
    await source.start();
    manager.start();
    try {
      await until('both functions fixed', () =>
        ['orders-api', 'orders-pay'].every(
          (n) => emulator.runtime.store.region(REGION).functions.get(n)?.config.memorySize === 1024,
        )
          ? true
          : undefined,
      );
      await until('the failure logged', () => (json.some((l) => l.includes('remediation failed')) ? true : undefined));
    } finally {
      await manager.stop();
      await source.stop();
      aws.destroy();
    }

    const records = json.map((l) => JSON.parse(l) as Record<string, unknown>);
    const remediations = records.filter((r) => r.api === 'UpdateFunctionConfiguration' && r.change !== undefined);
    const writes = emulator.runtime.writes.filter((w) => w.api === 'UpdateFunctionConfiguration' && w.ok);
    expect(remediations).toHaveLength(writes.length);
    expect(remediations.map((r) => r.function).sort()).toEqual(['orders-api', 'orders-pay']);
    for (const r of remediations) {
      expect(r).toMatchObject({
        level: 'info',
        policy: 'platform/memory',
        region: REGION,
        field: 'memorySize',
        change: 'memorySize 512 -> 1024',
        msg: `remediated ${String(r.function)}: memorySize 512 -> 1024`,
      });
    }
    expect(text.filter((l) => / INFO {2}remediated orders-(api|pay): memorySize 512 -> 1024 /.test(l))).toHaveLength(2);
    // the failure is there, its echoed credentials are not
    expect(json.join('')).toContain('[redacted]');
    const everything = [...json, ...text].join('');
    expect(SECRETS.filter((s) => everything.includes(s))).toEqual([]);
  });
});
