/**
 * Optional: Cloud Custodian (PyPI `c7n`) against moto on the same kind of fleet, its AWS calls counted by a
 * botocore hook (c7n_count.py). Runs only when c7n is in a venv under ~/.cache (installed on first use if that is
 * quick) and moto_server is in the test-infra cache; otherwise it is skipped with the reason.
 *
 * The fleet comes from the same generator as the audit (the full run uses the very same 10,000 functions; seeding
 * moto takes ~50 s of the run). Functions are created as Zip packages without aliases. Custodian policies cover
 * what it can express: memory, prod timeout, arm64, reserved concurrency (its `reserved-concurrency` filter calls GetFunction);
 * it has no provisioned-concurrency filter for Lambda, so aliases are not seeded.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateFunctionCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { stringify } from 'yaml';
import { defaultPackage } from '../src/emulator/zip.ts';
import { startMoto, testInfraBinDir } from '../test/e2e/harness/index.ts';
import { createMotoLambdaRole } from '../test/e2e/harness/moto.ts';
import type { Fleet } from './fleet.ts';
import { type BucketCounts, emptyBuckets, type TimeAtQuota, timeAtQuota } from './quota.ts';

const run = promisify(execFile);
const C7N_VERSION = '0.9.53';
const ROLE_NAME = 'bench-lambda-role';
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE_NAME}`;

export type C7nResult =
  | { skipped: true; reason: string }
  | {
      skipped: false;
      version: string;
      functions: number;
      installSeconds: number | undefined;
      seedSeconds: number;
      runSeconds: number;
      /** As counted against moto. */
      byApi: Record<string, number>;
      byRegion: Record<string, BucketCounts>;
      byBucket: BucketCounts;
      /**
       * What the same run costs on AWS: moto answers ListFunctions in one page, AWS in pages of 50 (c7n follows
       * NextMarker), so ListFunctions is counted as ceil(n/50) per region; everything else as counted.
       */
      awsEquivalent: { byRegion: Record<string, BucketCounts>; byBucket: BucketCounts; timeAtQuota: TimeAtQuota };
      /** STS/IAM and other calls outside the Lambda, tagging and autoscaling buckets. */
      other: number;
      timeAtQuota: TimeAtQuota;
      /** Resources each policy reported (sanity: it really evaluated the fleet). */
      matchedByPolicy: Record<string, number>;
    };

export function c7nVenv(): string {
  return process.env.LPC_C7N_VENV || join(process.env.HOME || homedir(), '.cache', 'lpc-bench', 'c7n-venv');
}

async function c7nReady(venv: string): Promise<string | undefined> {
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) return undefined;
  try {
    const { stdout } = await run(python, ['-c', 'import importlib.metadata as m; print(m.version("c7n"))']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Creates the venv and installs c7n, giving up after `timeoutMs` (then the comparison is skipped). */
async function installC7n(venv: string, timeoutMs: number): Promise<void> {
  await run('python3', ['-m', 'venv', venv], { timeout: timeoutMs });
  await run(join(venv, 'bin', 'pip'), ['install', '-q', `c7n==${C7N_VERSION}`], { timeout: timeoutMs });
}

async function seedMoto(url: string, fleet: Fleet): Promise<void> {
  const zip = defaultPackage('bench');
  const clients = new Map<string, LambdaClient>();
  const client = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new LambdaClient({ endpoint: url, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'x' } });
      clients.set(region, c);
    }
    return c;
  };
  const fns = fleet.seed.functions ?? [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < fns.length) {
          const f = fns[next++];
          if (!f) continue;
          const lambda = client(f.region);
          await lambda.send(
            new CreateFunctionCommand({
              FunctionName: f.name,
              Runtime: 'nodejs22.x',
              Role: ROLE_ARN,
              Handler: 'index.handler',
              Code: { ZipFile: zip },
              MemorySize: f.memorySize,
              Timeout: f.timeout,
              Architectures: [f.architecture ?? 'x86_64'],
              ...(f.tags ? { Tags: f.tags } : {}),
            }),
          );
          if (f.reservedConcurrency !== undefined) {
            await lambda.send(
              new PutFunctionConcurrencyCommand({
                FunctionName: f.name,
                ReservedConcurrentExecutions: f.reservedConcurrency,
              }),
            );
          }
        }
      }),
    );
  } finally {
    for (const c of clients.values()) c.destroy();
  }
}

/** Custodian's take on the estate's rules (what it can express). */
function custodianPolicies(): string {
  return stringify({
    policies: [
      {
        name: 'lambda-memory-floor',
        resource: 'aws.lambda',
        filters: [{ type: 'value', key: 'MemorySize', op: 'lt', value: 256 }],
      },
      {
        name: 'lambda-prod-timeout',
        resource: 'aws.lambda',
        filters: [{ 'tag:env': 'prod' }, { type: 'value', key: 'Timeout', op: 'ne', value: 60 }],
      },
      {
        name: 'lambda-arm64',
        resource: 'aws.lambda',
        filters: [
          { type: 'value', key: 'FunctionName', op: 'regex', value: '^svc[0-9]*[05]-.*' },
          { type: 'value', key: 'Architectures[0]', value: 'x86_64' },
        ],
      },
      {
        name: 'lambda-api-reserved',
        resource: 'aws.lambda',
        filters: [{ 'tag:tier': 'api' }, { type: 'reserved-concurrency', op: 'ne', value: 5 }],
      },
    ],
  });
}

function countResources(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry === 'resources.json') {
        const policy = p.split('/').slice(-2, -1)[0] ?? '?';
        const list = JSON.parse(readFileSync(p, 'utf8')) as unknown[];
        out[policy] = (out[policy] ?? 0) + list.length;
      }
    }
  };
  walk(dir);
  return out;
}

export async function runC7n(fleet: Fleet, options: { install: boolean }): Promise<C7nResult> {
  const venv = c7nVenv();
  let version = await c7nReady(venv);
  let installSeconds: number | undefined;
  if (!version) {
    if (!options.install) return { skipped: true, reason: `c7n not installed in ${venv} (--no-c7n-install)` };
    const started = performance.now();
    try {
      await installC7n(venv, 120_000);
    } catch (error) {
      return { skipped: true, reason: `c7n did not install within 120 s: ${String(error).split('\n')[0]}` };
    }
    installSeconds = (performance.now() - started) / 1000;
    version = await c7nReady(venv);
    if (!version) return { skipped: true, reason: 'c7n installed but does not import' };
  }
  try {
    testInfraBinDir();
  } catch (error) {
    return { skipped: true, reason: `moto_server missing: ${String(error).split('\n')[0]}` };
  }

  const regions = fleet.facts.map((f) => f.region);
  const moto = await startMoto({
    region: regions[0] as string,
    env: { MOTO_LAMBDA_CONCURRENCY_QUOTA: '1000000' },
  });
  const work = mkdtempSync(join(tmpdir(), 'lpc-bench-c7n-'));
  try {
    await createMotoLambdaRole(moto.url, ROLE_NAME, regions[0] as string);
    const seedStarted = performance.now();
    await seedMoto(moto.url, fleet);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    writeFileSync(join(work, 'policies.yml'), custodianPolicies());
    const countsFile = join(work, 'counts.json');
    const runStarted = performance.now();
    await run(
      join(venv, 'bin', 'python'),
      [
        join(import.meta.dirname, 'c7n_count.py'),
        countsFile,
        'run',
        '-s',
        join(work, 'out'),
        '--cache',
        join(work, 'cache.pkl'),
        ...regions.flatMap((r) => ['--region', r]),
        join(work, 'policies.yml'),
      ],
      {
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          AWS_ENDPOINT_URL: moto.url,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_DEFAULT_REGION: regions[0] as string,
        },
      },
    );
    const runSeconds = (performance.now() - runStarted) / 1000;
    const counted = JSON.parse(readFileSync(countsFile, 'utf8')) as { calls: [string, string, string, number][] };
    const byApi: Record<string, number> = {};
    const byRegion: Record<string, BucketCounts> = {};
    const byBucket = emptyBuckets();
    let other = 0;
    const listCalls = new Map<string, number>();
    for (const [service, region, op, n] of counted.calls) {
      byApi[op] = (byApi[op] ?? 0) + n;
      if (service === 'lambda' && op === 'ListFunctions') listCalls.set(region, (listCalls.get(region) ?? 0) + n);
      const bucket =
        service === 'lambda'
          ? op === 'GetFunction'
            ? 'lambda-getfunction'
            : 'lambda'
          : service === 'resourcegroupstaggingapi'
            ? 'tagging'
            : service === 'application-autoscaling'
              ? 'autoscaling'
              : undefined;
      if (bucket === undefined) {
        other += n;
        continue;
      }
      byRegion[region] ??= emptyBuckets();
      (byRegion[region] as BucketCounts)[bucket] += n;
      byBucket[bucket] += n;
    }
    const awsByRegion: Record<string, BucketCounts> = {};
    const awsByBucket = emptyBuckets();
    for (const fact of fleet.facts) {
      const counted = byRegion[fact.region] ?? emptyBuckets();
      const listed = listCalls.get(fact.region) ?? 0;
      const r = { ...counted, lambda: counted.lambda - listed + Math.max(1, Math.ceil(fact.functions / 50)) };
      awsByRegion[fact.region] = r;
      for (const b of Object.keys(awsByBucket) as (keyof BucketCounts)[]) awsByBucket[b] += r[b];
    }
    return {
      skipped: false,
      version,
      functions: fleet.seed.functions?.length ?? 0,
      installSeconds,
      seedSeconds,
      runSeconds,
      byApi,
      byRegion,
      byBucket,
      other,
      timeAtQuota: timeAtQuota(byRegion),
      awsEquivalent: { byRegion: awsByRegion, byBucket: awsByBucket, timeAtQuota: timeAtQuota(awsByRegion) },
      matchedByPolicy: countResources(join(work, 'out')),
    };
  } finally {
    await moto.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
