/**
 * Section 3, "in sync": the controller's own reconcile loop (Manager + FilePolicySource + MemoryStatusSink, the
 * loop `demo` runs) over the estate. Round 1 enforces; round 2 confirms the fixes (status reports them); rounds
 * 3-5 are steady-state checks — each must make zero AWS writes (the emulator's write log) and zero status writes.
 * Rounds are driven explicitly (one pass per region each), so automatic re-checks never blur them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LambdaPolicy, LambdaPolicyStatus } from '../src/api/schema.ts';
import { createAws } from '../src/aws/index.ts';
import { Manager } from '../src/controller/manager.ts';
import { MemoryStatusSink } from '../src/controller/memory-sink.ts';
import type { Emulator } from '../src/emulator/index.ts';
import { objectKey } from '../src/shared/keys.ts';
import { FilePolicySource } from '../src/sources/files.ts';
import { UNPACED_RATES } from './audit.ts';
import { clearWrites, getWrites } from './emulator-admin.ts';
import { buildPolicies, type Fleet } from './fleet.ts';

/** One status write, explained: which policy, which top-level status fields differ from what it had. */
export interface StatusWriteRecord {
  policy: string;
  changedFields: string[];
  /** The first differing field, before and after (JSON, truncated), so a surprising write can be diagnosed. */
  example?: { field: string; before: string; after: string };
}

/** The demo's MemoryStatusSink, also recording why each write happened. */
class RecordingSink extends MemoryStatusSink {
  readonly recorded: StatusWriteRecord[] = [];
  override async writeStatus(policy: LambdaPolicy, previous: unknown, status: LambdaPolicyStatus): Promise<boolean> {
    const key = objectKey(policy);
    const before = (previous ?? this.statuses.get(key)) as Record<string, unknown> | undefined;
    const wrote = await super.writeStatus(policy, previous, status);
    if (wrote) {
      const after = status as Record<string, unknown>;
      const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after)])].filter(
        (f) =>
          f !== 'lastCheckTime' && f !== 'nextCheckTime' && JSON.stringify(before?.[f]) !== JSON.stringify(after[f]),
      );
      const first = fields[0];
      this.recorded.push({
        policy: key,
        changedFields: fields,
        ...(first === undefined || before === undefined
          ? {}
          : {
              example: {
                field: first,
                before: JSON.stringify(before[first])?.slice(0, 400) ?? 'undefined',
                after: JSON.stringify(after[first])?.slice(0, 400) ?? 'undefined',
              },
            }),
      });
    }
    return wrote;
  }
}

export interface SyncRound {
  round: number;
  label: string;
  /** Mutating AWS calls that reached the emulator during the round (write log). */
  awsWrites: number;
  awsWritesByApi: Record<string, number>;
  awsWritesFailed: number;
  /** Status writes the Manager asked the sink for that changed something (the sink only counts real changes). */
  statusWrites: number;
  /** Why each status write happened (steady-state rounds only: earlier rounds write by design). */
  statusWriteReasons?: StatusWriteRecord[];
  /** Functions with actions planned in this round's passes. */
  functionsWithActions: number;
  wallMs: number;
}

export interface SyncResult {
  functions: number;
  policies: number;
  rounds: SyncRound[];
  /** The steady-state checks (rounds 3..5) wrote nothing, to AWS or to status. */
  inSync: boolean;
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function runSync(emulator: Emulator, fleet: Fleet, timeoutMs = 180_000): Promise<SyncResult> {
  const regions = fleet.facts.map((f) => f.region);
  const policies = buildPolicies();
  const dir = mkdtempSync(join(tmpdir(), 'lpc-bench-policies-'));
  writeFileSync(join(dir, 'policies.yaml'), policies.map((p) => stringify(p)).join('---\n'));
  const source = new FilePolicySource([dir]);
  const sink = new RecordingSink();
  const aws = createAws({ regions, endpoint: emulator.url, rates: UNPACED_RATES });
  const passes = new Map<string, number>(regions.map((r) => [r, 0]));
  let functionsWithActions = 0;
  const manager = new Manager({
    source,
    aws,
    defaultRegions: regions,
    sink,
    workers: regions.length,
    // Never re-check by itself: the benchmark drives each round.
    recheckAfterWritesMs: 3_600_000,
    execute: { pollIntervalMs: 50, concurrency: 64 },
    onPass: (region, pass) => {
      passes.set(region, (passes.get(region) ?? 0) + 1);
      functionsWithActions += pass.plan.functions.filter((f) => f.actions.length > 0).length;
    },
  });
  const rounds: SyncRound[] = [];
  const labels = [
    'enforce',
    'confirm (status reports the fixes)',
    'steady-state check',
    'steady-state check',
    'steady-state check',
  ];
  try {
    await source.start();
    if (source.current().errors.length > 0) throw new Error(`policy files: ${source.current().errors.join('; ')}`);
    await clearWrites(emulator.url);
    for (let round = 1; round <= labels.length; round++) {
      const statusBefore = sink.statusWrites;
      const recordedBefore = sink.recorded.length;
      const target = round;
      functionsWithActions = 0;
      const started = performance.now();
      if (round === 1) manager.start();
      else for (const r of regions) manager.queue.add(`region/${r}`);
      await waitFor(
        `round ${round}`,
        () => regions.every((r) => (passes.get(r) ?? 0) >= target) && manager.queue.inFlight === 0,
        timeoutMs,
      );
      const wallMs = performance.now() - started;
      const writes = await getWrites(emulator.url);
      await clearWrites(emulator.url);
      const byApi: Record<string, number> = {};
      for (const w of writes) byApi[w.api] = (byApi[w.api] ?? 0) + 1;
      rounds.push({
        round,
        label: labels[round - 1] as string,
        awsWrites: writes.length,
        awsWritesByApi: byApi,
        awsWritesFailed: writes.filter((w) => !w.ok).length,
        statusWrites: sink.statusWrites - statusBefore,
        ...(round >= 3 ? { statusWriteReasons: sink.recorded.slice(recordedBefore) } : {}),
        functionsWithActions,
        wallMs,
      });
    }
  } finally {
    await manager.stop();
    await source.stop();
    aws.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const steady = rounds.slice(2);
  return {
    functions: fleet.facts.reduce((n, f) => n + f.functions, 0),
    policies: policies.length,
    rounds,
    inSync: steady.every((r) => r.awsWrites === 0 && r.statusWrites === 0),
  };
}
