/**
 * Section 4: enforcing one change (memorySize 512 -> 1024) across N functions while the emulator enforces AWS's
 * quotas (Lambda's shared bucket 15 req/s, GetFunction 100 req/s, 429 + Retry-After over them). Measures how much
 * of the shared Lambda bucket's quota the controller actually uses, with its default pacing and tuned close to the
 * quota, and that no throttling reaches the results.
 */

import { type CallEvent, createAws, type Rates } from '../src/aws/index.ts';
import type { SeedDocument } from '../src/emulator/index.ts';
import { startEmulator } from '../src/emulator/index.ts';
import type { PolicyInput } from '../src/engine/model.ts';
import { reconcileFleet } from '../src/reconcile/pass.ts';
import { getCalls, postSeed, resetCalls } from './emulator-admin.ts';

export const ENFORCE_REGION = 'eu-central-1';
export const AWS_LAMBDA_QUOTA = 15;
export const AWS_GETFUNCTION_QUOTA = 100;

export interface EnforceRun {
  label: string;
  rates: Partial<Rates>;
  functions: number;
  /** Lambda-bucket calls AWS accepted (reads + writes) during the pass. */
  lambdaCalls: number;
  getFunctionCalls: number;
  /** Seconds from the start of the pass to the last Lambda-bucket call's answer. */
  lambdaWindowSeconds: number;
  /** lambdaCalls / lambdaWindowSeconds, and as a fraction of the 15 req/s quota. */
  lambdaRate: number;
  fractionOfQuota: number;
  /** Whole pass, including the last update's wait for LastUpdateStatus. */
  passSeconds: number;
  executionsOk: number;
  executionsFailed: number;
  /** 429s the emulator answered (GET /_emulator/calls) and the controller absorbed by pausing the bucket. */
  throttledByEmulator: number;
  throttledSeenByClient: number;
}

function seedOf(functions: number): SeedDocument {
  return {
    functions: Array.from({ length: functions }, (_, i) => ({
      name: `enforce-fn${String(i).padStart(5, '0')}`,
      region: ENFORCE_REGION,
      memorySize: 512,
      timeout: 10,
      tags: { bench: 'enforce' },
    })),
  };
}

const POLICY: PolicyInput = {
  id: 'bench/memory-1024',
  namespace: 'bench',
  name: 'memory-1024',
  mode: 'Enforce',
  priority: 0,
  suspend: false,
  intervalSeconds: 300,
  selector: { functionNames: ['enforce-fn*'] },
  settings: { memorySize: 1024 },
};

async function runOnce(url: string, label: string, rates: Partial<Rates>, functions: number): Promise<EnforceRun> {
  await postSeed(url, seedOf(functions));
  // Let the emulator's quota buckets refill after the previous run, then count from zero.
  await new Promise((r) => setTimeout(r, 1_500));
  await resetCalls(url);
  const events: { at: number; event: CallEvent }[] = [];
  const aws = createAws({
    regions: [ENFORCE_REGION],
    endpoint: url,
    rates,
    onCall: (event) => events.push({ at: performance.now(), event }),
  });
  const started = performance.now();
  let executions: Awaited<ReturnType<typeof reconcileFleet>>['executions'];
  try {
    ({ executions } = await reconcileFleet(aws, [POLICY], { defaultRegions: [ENFORCE_REGION], enforce: true }));
  } finally {
    aws.destroy();
  }
  const passSeconds = (performance.now() - started) / 1000;
  const lambdaOk = events.filter((e) => e.event.bucket === 'lambda' && e.event.outcome === 'ok');
  const lastLambda = Math.max(...lambdaOk.map((e) => e.at));
  const lambdaWindowSeconds = (lastLambda - started) / 1000;
  const lambdaRate = lambdaOk.length / lambdaWindowSeconds;
  const calls = await getCalls(url);
  return {
    label,
    rates,
    functions,
    lambdaCalls: lambdaOk.length,
    getFunctionCalls: events.filter((e) => e.event.bucket === 'lambda-getfunction' && e.event.outcome === 'ok').length,
    lambdaWindowSeconds,
    lambdaRate,
    fractionOfQuota: lambdaRate / AWS_LAMBDA_QUOTA,
    passSeconds,
    executionsOk: executions.filter((e) => e.ok).length,
    executionsFailed: executions.filter((e) => !e.ok).length,
    throttledByEmulator: calls.throttled.total,
    throttledSeenByClient: events.filter((e) => e.event.outcome === 'throttled').length,
  };
}

export interface EnforceSetting {
  label: string;
  rates: Partial<Rates>;
  functions: number;
}

export async function runEnforce(settings: readonly EnforceSetting[]): Promise<EnforceRun[]> {
  const emulator = await startEmulator({
    quotas: { lambda: AWS_LAMBDA_QUOTA, getFunction: AWS_GETFUNCTION_QUOTA },
    // An update stays InProgress for a while, as on AWS; the executor waits for it via GetFunction.
    updateDelayMs: 500,
    tickMs: 0,
  });
  try {
    const runs: EnforceRun[] = [];
    for (const s of settings) runs.push(await runOnce(emulator.url, s.label, s.rates, s.functions));
    return runs;
  } finally {
    await emulator.stop();
  }
}
