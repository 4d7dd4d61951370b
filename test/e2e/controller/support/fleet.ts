/**
 * The AWS side of the controller e2e tests: the project's emulator in this process, seeded with a small fleet the
 * test writes, read back through its state and write log (what AWS would show), and changed "behind the
 * controller's back" through its admin endpoint (what a colleague with the console would do).
 */
import { onTestFinished } from 'vitest';
import type { FunctionStateView } from '../../../../src/emulator/admin-api.ts';
import {
  type Emulator,
  emulatorAdmin,
  type SeedDocument,
  type SeedFunction,
  startEmulator,
} from '../../../../src/emulator/index.ts';
import type { WriteLogEntry } from '../../../../src/emulator/runtime.ts';

export type { FunctionStateView, WriteLogEntry };

export const EU = 'eu-central-1';
export const US = 'us-east-1';

/** A Zip function on nodejs22.x, x86_64, 512 MB, 30 s, unless `overrides` says otherwise. */
export function seedFunction(region: string, name: string, overrides: Partial<SeedFunction> = {}): SeedFunction {
  return {
    name,
    region,
    memorySize: 512,
    timeout: 30,
    architecture: 'x86_64',
    packageType: 'Zip',
    runtime: 'nodejs22.x',
    monthlyGbSeconds: 100_000,
    ...overrides,
  };
}

/** An emulator for one test (stopped when the test ends). LastUpdateStatus stays InProgress briefly, as on AWS. */
export async function startFleet(functions: SeedFunction[]): Promise<Fleet> {
  const seed: SeedDocument = { accountConcurrency: 1000, functions };
  const emulator = await startEmulator({ port: 0, seed, updateDelayMs: 200 });
  const fleet = new Fleet(emulator);
  try {
    onTestFinished(() => emulator.stop());
  } catch {
    // Outside a test: the caller stops it.
  }
  return fleet;
}

export interface ScheduledActionView {
  name: string;
  resourceId: string;
  schedule: string;
  timezone: string;
  minCapacity?: number;
  maxCapacity?: number;
}

export class Fleet {
  readonly emulator: Emulator;

  constructor(emulator: Emulator) {
    this.emulator = emulator;
  }

  get url(): string {
    return this.emulator.url;
  }

  fn(region: string, name: string): FunctionStateView {
    const view = this.emulator.state().regions[region]?.functions.find((f) => f.name === name);
    if (!view) throw new Error(`no function ${region}/${name} in the emulator`);
    return view;
  }

  /** Requested provisioned concurrency of a qualifier (0 when none). */
  provisioned(region: string, name: string, qualifier: string): number {
    return this.fn(region, name).provisioned.find((p) => p.qualifier === qualifier)?.requested ?? 0;
  }

  scheduledActions(region: string): ScheduledActionView[] {
    return (this.emulator.state().regions[region]?.scheduledActions ?? []) as ScheduledActionView[];
  }

  /** Every scheduled action in every region whose name starts with `prefix`. */
  scheduledActionsNamed(prefix: string): ScheduledActionView[] {
    return Object.values(this.emulator.state().regions).flatMap((r) =>
      (r.scheduledActions as ScheduledActionView[]).filter((a) => a.name.startsWith(prefix)),
    );
  }

  /** The write log (every mutating AWS call that reached the emulator), after sequence number `since`. */
  writes(since = 0): WriteLogEntry[] {
    return this.emulator.runtime.writes.filter((w) => w.seq > since);
  }

  /** The sequence number of the newest write so far (0 when none): a bookmark for writes(since). */
  lastWriteSeq(): number {
    return this.emulator.runtime.writes.at(-1)?.seq ?? 0;
  }

  /** Calls of one API in one region so far (reads included): proof the controller re-checked AWS. */
  calls(region: string, api: string): number {
    return this.emulator.runtime.calls.byRegionApi[region]?.[api] ?? 0;
  }

  /**
   * Changes a function outside the AWS API (`POST /_emulator/functions/<region>/<name>`): no write log entry, no
   * event anyone could watch. Only the controller's periodic re-check can notice it.
   */
  async changeBehindTheBack(region: string, name: string, change: Record<string, unknown>): Promise<void> {
    await emulatorAdmin(this.url, 'POST', `functions/${region}/${name}`, change);
  }
}

/** "api UpdateFunctionConfiguration eu-central-1/shop-api by leaderA": a write log entry for failure messages. */
export function describeWrite(w: WriteLogEntry): string {
  return `#${w.seq} ${w.api} ${w.region}/${w.function ?? w.resourceId ?? '?'} by ${w.accessKeyId ?? '?'}${w.ok ? '' : ` (failed: ${w.error})`}`;
}
