/**
 * Section "accounts": an estate of many AWS accounts (default 100,000 functions in 20 accounts x 2 regions) on one
 * emulator that enforces AWS's quotas per account and region. The controller audits every account in one pass,
 * each through its own assumed role and token buckets, in parallel (bench/accounts-child.ts, a fresh process).
 * Measured in the same run, as ratios:
 *  - calls per account vs the minimum AWS allows for that account's fleet (target 1.00x);
 *  - STS calls: one AssumeRole and one GetCallerIdentity per account (20 for 20 accounts);
 *  - wall time of the whole estate vs the slowest single account audited alone (target <= 1.3x): quotas are per
 *    account, so accounts in parallel should cost little more than one;
 *  - the controller's peak RSS (target < 1 GB) and planning CPU (plan() of every account's fleet, vs the same
 *    process's reference workload).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type Emulator, emulatorAdmin, startEmulator } from '../src/emulator/index.ts';
import { type AccountsChildResult, BENCH_EXTERNAL_ID, BENCH_ROLE } from './accounts-child.ts';
import type { EmulatorCalls } from './emulator-admin.ts';
import { ACCOUNT_CONCURRENCY, BENCH_REGIONS, buildFleet, minimumAuditCalls } from './fleet.ts';

export interface AccountsBenchOptions {
  functions: number;
  accounts: number;
  /** How many accounts are also audited alone, one at a time (all fleets are alike; the slowest counts). */
  alone: number;
}

export interface AccountsResult {
  functions: number;
  accounts: number;
  regions: string[];
  all: AccountsChildResult;
  alone: { accountId: string; wallMs: number; maxRssMb: number }[];
  callsPerAccount: { accountId: string; calls: number; minimum: number; ratio: number }[];
  /** The largest calls/minimum of any account. */
  worstCallRatio: number;
  sts: { assumeRole: number; getCallerIdentity: number };
  throttledByEmulator: number;
  slowestAloneMs: number;
  wallRatio: number;
  seedMs: number;
  /** Every call the all-accounts pass made (emulator counts, STS included). */
  totalCalls: number;
  /** The controller's CPU of the all-accounts pass per 1,000 calls: comparable across runs and machines' loads. */
  cpuMsPer1000Calls: number;
  /**
   * The pass's controller CPU / the slowest account alone: the wall ratio one Node thread cannot go below however
   * idle the machine (the pass is CPU-bound once this exceeds 1).
   */
  cpuFloorRatio: number;
  /** CPU of this process (the emulator answering every account) during the all-accounts pass. */
  emulatorCpuMs: number;
}

const accountId = (i: number) => `3${String(i + 1).padStart(11, '0')}`;

async function runChild(url: string, ids: readonly string[]): Promise<AccountsChildResult> {
  // The Node flag the bin's shebang starts the controller with: the controller as shipped.
  const flags = ['--max-semi-space-size=2'];
  const child = spawn(
    process.execPath,
    [...flags, join(import.meta.dirname, 'accounts-child.ts'), url, ids.join(',')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || line === '') throw new Error(`accounts child failed (${code}): ${stderr.slice(-2000)}`);
  const result = JSON.parse(line) as AccountsChildResult;
  if (result.failedAccounts.length > 0) throw new Error(`accounts failed: ${result.failedAccounts.join('; ')}`);
  return result;
}

const callsOf = (url: string, id: string) => emulatorAdmin<EmulatorCalls>(url, 'GET', `calls?account=${id}`);
const resetAll = (url: string, ids: readonly string[]) =>
  Promise.all(ids.map((id) => emulatorAdmin(url, 'DELETE', `calls?account=${id}`)));

export async function runAccountsBench(options: AccountsBenchOptions): Promise<AccountsResult> {
  const perAccount = Math.floor(options.functions / options.accounts);
  const fleet = buildFleet(perAccount, BENCH_REGIONS);
  const ids = Array.from({ length: options.accounts }, (_, i) => accountId(i));
  const seedStarted = performance.now();
  const emulator: Emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accounts: ids.map((id) => ({
        accountId: id,
        accountConcurrency: ACCOUNT_CONCURRENCY,
        roles: [{ name: BENCH_ROLE, externalId: BENCH_EXTERNAL_ID }],
        functions: fleet.seed.functions ?? [],
      })),
    },
  });
  const seedMs = performance.now() - seedStarted;
  try {
    // AWS's per-account, per-region quotas (Lambda 15/s shared, GetFunction 100/s), enforced in every account.
    for (const id of ids) await emulatorAdmin(emulator.url, 'POST', `quotas?account=${id}`, { enabled: true });

    await resetAll(emulator.url, ids);
    // The emulator runs in this process: its CPU during the pass says whether the bench measures it or the controller.
    const emulatorCpuBefore = process.cpuUsage();
    const all = await runChild(emulator.url, ids);
    const emulatorCpu = process.cpuUsage(emulatorCpuBefore);
    const minimum = minimumAuditCalls(fleet.facts);
    const minimumTotal = Object.values(minimum.byBucket).reduce((a, b) => a + b, 0);
    const callsPerAccount: AccountsResult['callsPerAccount'] = [];
    let assumeRole = 0;
    let getCallerIdentity = 0;
    let throttled = 0;
    let totalCalls = 0;
    for (const id of ids) {
      const calls = await callsOf(emulator.url, id);
      // STS is counted apart: AssumeRole (signed by the controller, answered by the role's account) and the
      // GetCallerIdentity that verifies the account; the rest is what the minimum counts.
      const total = Object.entries(calls.byApi)
        .filter(([api]) => api !== 'AssumeRole' && api !== 'GetCallerIdentity')
        .reduce((n, [, c]) => n + c, 0);
      assumeRole += calls.byApi.AssumeRole ?? 0;
      getCallerIdentity += calls.byApi.GetCallerIdentity ?? 0;
      throttled += calls.throttled.total;
      totalCalls += Object.values(calls.byApi).reduce((n, c) => n + c, 0);
      callsPerAccount.push({ accountId: id, calls: total, minimum: minimumTotal, ratio: total / minimumTotal });
    }

    const alone: AccountsResult['alone'] = [];
    // First, middle and last account (and more when asked): identical fleets, independent quotas.
    const picks = [
      ...new Set(
        Array.from({ length: Math.min(options.alone, ids.length) }, (_, k) =>
          Math.round((k * (ids.length - 1)) / Math.max(1, Math.min(options.alone, ids.length) - 1)),
        ),
      ),
    ];
    for (const i of picks) {
      const id = ids[i] as string;
      await resetAll(emulator.url, [id]);
      const r = await runChild(emulator.url, [id]);
      alone.push({ accountId: id, wallMs: r.wallMs, maxRssMb: r.maxRssMb });
    }
    const slowestAloneMs = Math.max(...alone.map((a) => a.wallMs));
    return {
      functions: perAccount * options.accounts,
      accounts: options.accounts,
      regions: [...BENCH_REGIONS],
      all,
      alone,
      callsPerAccount,
      worstCallRatio: Math.max(...callsPerAccount.map((c) => c.ratio)),
      sts: { assumeRole, getCallerIdentity },
      throttledByEmulator: throttled,
      slowestAloneMs,
      wallRatio: all.wallMs / slowestAloneMs,
      seedMs,
      totalCalls,
      cpuMsPer1000Calls: (all.passCpuMs / totalCalls) * 1000,
      cpuFloorRatio: all.passCpuMs / slowestAloneMs,
      emulatorCpuMs: (emulatorCpu.user + emulatorCpu.system) / 1000,
    };
  } finally {
    await emulator.stop();
  }
}
