/**
 * `npm run bench`: the performance targets (docs/benchmarks.md), measured against the emulator (and, where present,
 * the local test cluster and moto + Cloud Custodian). Prints a report and writes bench/results/latest.json.
 *
 *   npm run bench                 # full: 10,000 functions x 500 policies (~4-5 min)
 *   npm run bench -- --quick      # 2,000 functions, smaller enforcement runs (~1.5 min)
 *   options: --no-k8s  --no-c7n  --no-c7n-install  --only=audit,planning,sync,c7n,enforce,k8s,accounts
 *            --accounts-functions=N (default 100,000; quick 10,000)  --accounts=N (20)  --accounts-alone=N (3)
 *
 * Machines are shared and noisy: every figure that depends on speed is reported next to a baseline measured in the
 * same run (the AWS minimum, the naive scanner, the quota, a reference CPU workload). See docs/benchmarks.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BucketName } from '../src/aws/index.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { type AccountsResult, runAccountsBench } from './accounts.ts';
import { type AuditResult, runAudit } from './audit.ts';
import { type C7nResult, runC7n } from './c7n.ts';
import { AWS_LAMBDA_QUOTA, type EnforceRun, runEnforce } from './enforce.ts';
import { buildFleet } from './fleet.ts';
import { heading, ms, num, pct, ratio, seconds, table, verdict } from './format.ts';
import { type KubeLatencyResult, runKubeLatency } from './kube-latency.ts';
import { PLANNING_VARIANTS, type PlanningRun, runPlanningChild } from './planning.ts';
import { QUOTA_RATES } from './quota.ts';
import { runSync, type SyncResult } from './sync.ts';

const SECTIONS = ['audit', 'planning', 'sync', 'c7n', 'enforce', 'k8s', 'accounts'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  quick: boolean;
  sections: Set<Section>;
  c7nInstall: boolean;
  accounts: { functions: number | undefined; accounts: number; alone: number };
}

function positive(arg: string): number {
  const n = Number(arg.slice(arg.indexOf('=') + 1));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg}: a positive integer is needed`);
  return n;
}

function parseArgs(argv: readonly string[]): Options {
  const sections = new Set<Section>(SECTIONS);
  let quick = false;
  let c7nInstall = true;
  const accounts: Options['accounts'] = { functions: undefined, accounts: 20, alone: 3 };
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--accounts-functions=')) accounts.functions = positive(arg);
    else if (arg.startsWith('--accounts-alone=')) accounts.alone = positive(arg);
    else if (arg.startsWith('--accounts=')) accounts.accounts = positive(arg);
    else if (arg === '--no-k8s') sections.delete('k8s');
    else if (arg === '--no-c7n') sections.delete('c7n');
    else if (arg === '--no-c7n-install') c7nInstall = false;
    else if (arg.startsWith('--only=')) {
      sections.clear();
      for (const s of arg.slice('--only='.length).split(',')) {
        if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section ${s}`);
        sections.add(s as Section);
      }
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        'npm run bench -- [--quick] [--no-k8s] [--no-c7n] [--no-c7n-install] [--only=a,b] ' +
          '[--accounts-functions=N] [--accounts=N] [--accounts-alone=N]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { quick, sections, c7nInstall, accounts };
}

const opts = parseArgs(process.argv.slice(2));
const SIZE = opts.quick
  ? { fleet: 2_000, c7nFleet: 300, enforceTuned: 200, enforceDefault: 100, enforceOver: 60, kubeTrials: 3 }
  : { fleet: 10_000, c7nFleet: 10_000, enforceTuned: 1_000, enforceDefault: 300, enforceOver: 150, kubeTrials: 5 };
const TARGET = { auditRatio: 1.1, planCpuMs: 250, rssMb: 200, quotaFraction: 0.9, kubeMs: 1_000 };
const ACCOUNTS_TARGET = { callRatio: 1.0, wallRatio: 1.3, rssMb: 1024 };
const BUCKETS: BucketName[] = ['lambda', 'lambda-getfunction', 'tagging', 'autoscaling', 'logs'];

const say = (text: string) => process.stdout.write(`${text}\n`);
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  mode: opts.quick ? 'quick' : 'full',
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  sizes: SIZE,
  targets: TARGET,
};
const checks: { what: string; measured: string; target: string; ok: boolean | undefined }[] = [];
const benchStarted = performance.now();

function reportAudit(a: AuditResult): void {
  const label = a.baseline ? ' + the production-baseline Audit policy over every function' : '';
  say(
    heading(
      `1${a.baseline ? 'b' : ''}. Full audit: ${num(a.functions)} functions x ${a.policies} policies${label}, ${a.regions.length} regions`,
    ),
  );
  say(
    `Controller read+plan (no writes): matched ${num(a.controller.matched)}, drifted ${num(a.controller.drifted)}, ` +
      `read errors ${a.controller.readErrors}; emulator and controller call counters agree: ${a.controller.clientCountsAgree ? 'yes' : 'NO'}`,
  );
  say('');
  say(
    table(
      ['bucket (quota/region)', 'minimum', 'controller', 'ratio', 'naive', 'controller @quota', 'naive @quota'],
      BUCKETS.map((b) => [
        `${b} (${QUOTA_RATES[b].rate}/s${QUOTA_RATES[b].published ? '' : ' assumed'})`,
        a.minimum.byBucket[b],
        a.controller.byBucket[b],
        a.minimum.byBucket[b] === 0 ? '-' : ratio(a.ratioToMinimum[b]),
        a.naive.byRegion ? Object.values(a.naive.byRegion).reduce((n, r) => n + r[b], 0) : 0,
        seconds(a.controller.timeAtQuota.byBucket[b]),
        seconds(a.naive.timeAtQuota.byBucket[b]),
      ]),
    ),
  );
  const total = (c: Record<BucketName, number>) => BUCKETS.reduce((n, b) => n + c[b], 0);
  say(
    `  total: minimum ${num(total(a.minimum.byBucket))}, controller ${num(total(a.controller.byBucket))} ` +
      `(${ratio(a.ratioToMinimum.total)} of minimum), naive ${num(a.naive.calls)}`,
  );
  say('');
  say(
    `Controller calls by API: ${Object.entries(a.controller.byApi)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(', ')}`,
  );
  say(
    `Naive scanner calls by API: ${Object.entries(a.naive.byApi)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(', ')}`,
  );
  say(
    `Time at AWS quota (regions in parallel, a region's buckets one after another): controller ` +
      `${seconds(a.controller.timeAtQuota.total)}, minimum ${seconds(a.minimum.timeAtQuota.total)}, naive ` +
      `${seconds(a.naive.timeAtQuota.total)} -> naive needs ${ratio(a.naiveOverController.timeAtQuota)} the time and ` +
      `${ratio(a.naiveOverController.calls)} the calls.`,
  );
  say(
    `(Wall time against the quota-free emulator, for context only: controller ${seconds(a.controller.wallMs / 1000)}, ` +
      `naive ${seconds(a.naive.wallMs / 1000)}.)`,
  );
  checks.push({
    what: `audit calls vs minimum (worst bucket)${a.baseline ? ', production baseline' : ''}`,
    measured: ratio(Math.max(...Object.values(a.ratioToMinimum))),
    target: `<= ${ratio(TARGET.auditRatio)}`,
    ok: a.withinTenPercent,
  });
}

function reportPlanning(runs: PlanningRun[]): void {
  const first = runs[0];
  if (!first) return;
  say(heading(`2. Planning ${num(first.functions)} functions x ${first.policies} policies (fresh child process each)`));
  say(
    `Read through the real SDK first (${seconds(first.readWallMs / 1000)} wall, ${ms(first.readCpuMs)} CPU), then plan; ` +
      `matched ${num(first.matched)}, ${num(first.actions)} actions. Reference workload (sort 1M doubles) in the same ` +
      'process gives a machine-independent ratio.',
  );
  say('');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  say(
    table(
      [
        'node flags',
        'plan CPU cold',
        'warm median',
        'cold / reference',
        'RSS before',
        'RSS after',
        'peak RSS',
        'heap used',
      ],
      runs.map((r) => [
        r.nodeFlags === '' ? '(defaults)' : r.nodeFlags,
        ms(r.coldCpuMs),
        ms(median(r.warmCpuMs)),
        ratio(r.coldCpuMs / r.referenceCpuMs),
        `${r.rssBeforeMb.toFixed(0)} MB`,
        `${r.rssAfterMb.toFixed(0)} MB`,
        `${r.maxRssMb.toFixed(0)} MB`,
        `${r.heapUsedAfterMb.toFixed(0)} MB`,
      ]),
    ),
  );
  say(
    `  "RSS before" = the process after loading the controller's modules (Node + AWS SDK + engine); "RSS after" = ` +
      'after reading and planning, with the snapshot and plan alive.',
  );
  // The controller runs with Node's defaults; the other flags trade CPU for memory and are context.
  checks.push({
    what: 'plan CPU, cold (node defaults)',
    measured: `${ms(first.coldCpuMs)} (${ratio(first.coldCpuMs / first.referenceCpuMs)} ref)`,
    target: `< ${TARGET.planCpuMs} ms`,
    ok: first.coldCpuMs < TARGET.planCpuMs,
  });
  for (const r of runs) {
    checks.push({
      what: `controller RSS after read+plan ${rssLabel(r.nodeFlags)}`,
      measured: `${r.rssAfterMb.toFixed(0)} MB (peak ${r.maxRssMb.toFixed(0)})`,
      target: `< ${TARGET.rssMb} MB`,
      ok: r.rssAfterMb < TARGET.rssMb,
    });
  }
}

function reportSync(s: SyncResult): void {
  say(heading(`3. In sync: the reconcile loop (Manager + MemoryStatusSink) over ${num(s.functions)} functions`));
  say(
    table(
      ['round', 'AWS writes', 'failed', 'status writes', 'functions with actions', 'wall'],
      s.rounds.map((r) => [
        `${r.round}. ${r.label}`,
        r.awsWrites,
        r.awsWritesFailed,
        r.statusWrites,
        r.functionsWithActions,
        seconds(r.wallMs / 1000),
      ]),
    ),
  );
  const first = s.rounds[0];
  if (first) {
    say(
      `  round 1 writes by API: ${Object.entries(first.awsWritesByApi)
        .map(([k, v]) => `${k} ${num(v)}`)
        .join(', ')}`,
    );
  }
  const steady = s.rounds.filter((r) => r.label.startsWith('steady'));
  for (const r of steady.flatMap((x) => x.statusWriteReasons ?? [])) {
    const e = r.example;
    say(
      `  steady-state status write: ${r.policy} changed ${r.changedFields.join(', ')}` +
        (e ? ` (${e.field}: ${e.before} -> ${e.after})` : ''),
    );
  }
  const sum = (f: (r: (typeof steady)[number]) => number) => steady.reduce((n, r) => n + f(r), 0);
  checks.push({
    what: `in sync: AWS writes / status writes in ${steady.length} steady-state checks`,
    measured: `${sum((r) => r.awsWrites)} / ${sum((r) => r.statusWrites)}`,
    target: '0 / 0',
    ok: s.inSync,
  });
}

function reportC7n(c: C7nResult, controller: AuditResult | undefined): void {
  say(heading('1b. Cloud Custodian against moto (optional comparison)'));
  if (c.skipped) {
    say(`Skipped: ${c.reason}`);
    return;
  }
  say(
    `c7n ${c.version} on moto, ${num(c.functions)} functions from the same generator (Zip only, no aliases); seeded ` +
      `in ${seconds(c.seedSeconds)}, custodian ran ${seconds(c.runSeconds)}` +
      `${c.installSeconds !== undefined ? `, installed in ${seconds(c.installSeconds)}` : ''}.`,
  );
  say(
    `Custodian calls by API (on moto): ${Object.entries(c.byApi)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(', ')}`,
  );
  say(
    `Policies evaluated (resources matched): ${Object.entries(c.matchedByPolicy)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  say('');
  say(
    table(
      ['bucket', 'c7n (moto)', 'c7n (AWS paging)', 'controller', 'naive'],
      BUCKETS.map((b) => [
        b,
        c.byBucket[b],
        c.awsEquivalent.byBucket[b],
        controller ? controller.controller.byBucket[b] : '-',
        controller ? Object.values(controller.naive.byRegion).reduce((n, r) => n + r[b], 0) : '-',
      ]),
    ),
  );
  if (controller) {
    say(
      `  time at quota: c7n ${seconds(c.awsEquivalent.timeAtQuota.total)}, controller ` +
        `${seconds(controller.controller.timeAtQuota.total)}, naive ${seconds(controller.naive.timeAtQuota.total)} ` +
        `(controller and naive: the ${num(controller.functions)}-function estate on the emulator; the controller also ` +
        'reads provisioned concurrency and Auto Scaling state, which Custodian has no filter for).',
    );
  }
  say(`  plus ${c.other} call(s) outside these buckets (STS).`);
}

function reportEnforce(runs: EnforceRun[]): void {
  say(heading('4. Enforcing a change with the emulator enforcing AWS quotas (Lambda 15/s shared, GetFunction 100/s)'));
  say(
    table(
      [
        'client pacing',
        'functions',
        'Lambda calls',
        'window',
        'Lambda req/s',
        'of 15/s quota',
        '429s absorbed',
        'failed',
      ],
      runs.map((r) => [
        r.label,
        r.functions,
        r.lambdaCalls,
        seconds(r.lambdaWindowSeconds),
        num(r.lambdaRate, 2),
        pct(r.fractionOfQuota),
        `${r.throttledByEmulator}`,
        `${r.executionsFailed}`,
      ]),
    ),
  );
  say(
    '  Lambda req/s = Lambda-bucket calls AWS accepted (20 ListFunctions pages per 1,000 functions, GetAccountSettings, ' +
      'one UpdateFunctionConfiguration per function) / time from pass start to the last of them. GetFunction waits ' +
      'use the other bucket. 429s absorbed = throttles the emulator answered (GET /_emulator/calls), retried after ' +
      'Retry-After by pausing the bucket; failed = executions not ok.',
  );
  for (const r of runs) {
    if (r.label.startsWith('tuned')) {
      checks.push({
        what: `enforcement: share of the Lambda quota (${r.label}, ${num(r.functions)} functions)`,
        measured: pct(r.fractionOfQuota),
        target: `>= ${pct(TARGET.quotaFraction)}`,
        ok: r.fractionOfQuota >= TARGET.quotaFraction,
      });
    }
  }
  const failed = runs.reduce((n, r) => n + r.executionsFailed, 0);
  checks.push({
    what: 'enforcement: throttling errors surfaced',
    measured: `${failed}`,
    target: '0',
    ok: failed === 0,
  });
}

function reportKube(k: KubeLatencyResult): void {
  say(heading('5. kubectl apply -> first AWS write (local test cluster, controller as a child process)'));
  if (k.skipped) {
    say(`Skipped: ${k.reason}`);
    return;
  }
  say(
    `  idle controller: ${k.trialsMs.map((v) => `${v} ms`).join(', ')} (median ${ms(k.medianMs)}, max ${ms(k.maxMs)})`,
  );
  say(
    `  back-to-back (300 ms after the previous policy's write): ${k.backToBackMs.map((v) => `${v} ms`).join(', ')} ` +
      `(median ${ms(k.backToBackMedianMs)})`,
  );
  say(
    `  first policy after start: ${k.firstMs} ms (its kubectl apply: ${k.firstKubectlMs} ms); kubectl apply alone ` +
      `(process start to exit): median ${ms(k.kubectlMedianMs)}`,
  );
  checks.push({
    what: 'kubectl apply -> first AWS write (idle, max)',
    measured: ms(k.maxMs),
    target: `< ${TARGET.kubeMs} ms`,
    ok: k.maxMs < TARGET.kubeMs,
  });
}

function reportAccounts(a: AccountsResult): void {
  say(
    heading(
      `6. Many accounts: ${num(a.functions)} functions in ${a.accounts} accounts x ${a.regions.length} regions ` +
        '(emulator enforcing quotas per account)',
    ),
  );
  const worst = a.callsPerAccount.reduce((w, c) => (c.ratio > w.ratio ? c : w));
  say(
    table(
      ['measure', 'value'],
      [
        [
          'calls per account (worst) / minimum',
          `${num(worst.calls)} / ${num(worst.minimum)} = ${ratio(a.worstCallRatio)}`,
        ],
        ['STS AssumeRole + GetCallerIdentity', `${a.sts.assumeRole} + ${a.sts.getCallerIdentity}`],
        ['429s answered by the emulator', `${a.throttledByEmulator}`],
        ['wall, all accounts in parallel', ms(a.all.wallMs)],
        [
          `wall, slowest account alone (of ${a.alone.length} measured)`,
          `${ms(a.slowestAloneMs)} (${a.alone.map((x) => ms(x.wallMs)).join(', ')})`,
        ],
        ['wall ratio (all / slowest alone)', ratio(a.wallRatio)],
        ['controller peak RSS (all accounts)', `${num(a.all.maxRssMb, 0)} MB`],
        ['controller CPU of the pass', ms(a.all.passCpuMs)],
        [`controller CPU per 1,000 calls (${num(a.totalCalls)} calls, STS included)`, ms(a.cpuMsPer1000Calls)],
        ['CPU floor of the wall ratio (pass CPU / slowest alone)', ratio(a.cpuFloorRatio)],
        ['emulator CPU during the pass (bench process)', ms(a.emulatorCpuMs)],
        [
          `planning CPU (plan() of ${a.accounts} fleets)`,
          `${ms(a.all.planCpuMs)} = ${ratio(a.all.planCpuMs / a.all.referenceCpuMs)} the reference workload (${ms(a.all.referenceCpuMs)})`,
        ],
      ],
    ),
  );
  checks.push(
    {
      what: 'accounts: calls per account vs minimum (worst account)',
      measured: ratio(a.worstCallRatio),
      target: `${ratio(ACCOUNTS_TARGET.callRatio)}`,
      ok: a.worstCallRatio <= ACCOUNTS_TARGET.callRatio,
    },
    {
      what: `accounts: STS AssumeRole calls (${a.accounts} accounts)`,
      measured: `${a.sts.assumeRole}`,
      target: `${a.accounts}`,
      ok: a.sts.assumeRole === a.accounts,
    },
    {
      what: 'accounts: wall, all in parallel / slowest alone',
      measured: ratio(a.wallRatio),
      target: `<= ${ratio(ACCOUNTS_TARGET.wallRatio)}`,
      ok: a.wallRatio <= ACCOUNTS_TARGET.wallRatio,
    },
    {
      what: 'accounts: controller peak RSS',
      measured: `${num(a.all.maxRssMb, 0)} MB`,
      target: `< ${ACCOUNTS_TARGET.rssMb} MB`,
      ok: a.all.maxRssMb < ACCOUNTS_TARGET.rssMb,
    },
  );
}

async function main(): Promise<void> {
  say(
    `lambda-policy-controller benchmark (${opts.quick ? 'quick' : 'full'}) on ${cpus().length} CPUs, node ${process.version}; ` +
      `sections: ${[...opts.sections].join(', ')}`,
  );
  let audit: AuditResult | undefined;
  const fleet = buildFleet(SIZE.fleet);
  if (opts.sections.has('audit') || opts.sections.has('planning') || opts.sections.has('sync')) {
    const emulator = await startEmulator({ seed: fleet.seed, tickMs: 0 });
    try {
      if (opts.sections.has('audit')) {
        audit = await runAudit(emulator, fleet);
        results.audit = audit;
        reportAudit(audit);
        const withBaseline = await runAudit(emulator, fleet, { baseline: true });
        results.auditProductionBaseline = withBaseline;
        reportAudit(withBaseline);
      }
      if (opts.sections.has('planning')) {
        const runs: PlanningRun[] = [];
        for (const flags of PLANNING_VARIANTS)
          runs.push(
            await runPlanningChild(
              emulator.url,
              fleet.facts.map((f) => f.region),
              flags,
            ),
          );
        results.planning = runs;
        reportPlanning(runs);
      }
      if (opts.sections.has('sync')) {
        const sync = await runSync(emulator, fleet);
        results.sync = sync;
        reportSync(sync);
      }
    } finally {
      await emulator.stop();
    }
  }
  if (opts.sections.has('c7n')) {
    const same = SIZE.c7nFleet === SIZE.fleet;
    const small = same ? fleet : buildFleet(SIZE.c7nFleet);
    const c7n = await runC7n(small, { install: opts.c7nInstall }).catch(
      (error: unknown): C7nResult => ({ skipped: true, reason: `failed: ${String(error).split('\n')[0]}` }),
    );
    // The same estate as section 1 when sizes agree (the generator is deterministic), else a fresh audit of it.
    let controller: AuditResult | undefined = same ? audit : undefined;
    if (!c7n.skipped && controller === undefined) {
      const emulator = await startEmulator({ seed: small.seed, tickMs: 0 });
      try {
        controller = await runAudit(emulator, small);
      } finally {
        await emulator.stop();
      }
    }
    results.c7n = { custodian: c7n, controllerSameFleet: controller };
    reportC7n(c7n, controller);
  }
  if (opts.sections.has('enforce')) {
    const runs = await runEnforce([
      { label: 'default (10/s)', rates: {}, functions: SIZE.enforceDefault },
      { label: 'tuned (14.5/s)', rates: { lambda: 14.5 }, functions: SIZE.enforceTuned },
      { label: 'over quota (20/s)', rates: { lambda: 20 }, functions: SIZE.enforceOver },
    ]);
    results.enforce = runs;
    reportEnforce(runs);
  }
  if (opts.sections.has('k8s')) {
    const kube = await runKubeLatency(SIZE.kubeTrials).catch(
      (error: unknown): KubeLatencyResult => ({ skipped: true, reason: `failed: ${String(error).split('\n')[0]}` }),
    );
    results.kube = kube;
    reportKube(kube);
  }

  if (opts.sections.has('accounts')) {
    const accounts = await runAccountsBench({
      functions: opts.accounts.functions ?? (opts.quick ? 10_000 : 100_000),
      accounts: opts.accounts.accounts,
      alone: opts.accounts.alone,
    });
    results.accounts = accounts;
    reportAccounts(accounts);
  }

  say(heading('Summary (targets in docs/benchmarks.md)'));
  say(
    table(
      ['check', 'measured', 'target', ''],
      checks.map((c) => [c.what, c.measured, c.target, c.ok === undefined ? '-' : verdict(c.ok)]),
    ),
  );
  const totalSeconds = (performance.now() - benchStarted) / 1000;
  say(
    `\nbench took ${seconds(totalSeconds)}; quota share of the enforcement run is relative to AWS's ${AWS_LAMBDA_QUOTA} req/s.`,
  );
  results.checks = checks;
  results.totalSeconds = totalSeconds;
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  say(`results: bench/results/latest.json`);
}

try {
  await main();
  // SDK keep-alive sockets and harness timers must not hold the process open after the report.
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}

/** The bin starts Node with --max-semi-space-size=2 (its shebang): that variant is the controller as shipped. */
function rssLabel(nodeFlags: string): string {
  if (nodeFlags === '') return '(node defaults)';
  if (nodeFlags === '--max-semi-space-size=2') return '(as the bin runs it: --max-semi-space-size=2)';
  return `(${nodeFlags})`;
}
