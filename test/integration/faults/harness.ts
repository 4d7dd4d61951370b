/**
 * The fault table's machinery. Each case injects one fault or bad input into a real run of the CLI (in-process,
 * the real AWS SDK over HTTP, the emulator with its fault modes) and measures the same things every time:
 *  - crashed: an exit code other than 0/1/2, or a JavaScript error escaping to the terminal;
 *  - hung: no answer within a generous bound (every AWS attempt has a short deadline in these runs);
 *  - writes lost: actions still planned after the faults are cleared and `apply` runs once more (what the faulted
 *    run should have done, or left for a later pass, and nobody did);
 *  - writes duplicated: the same write (API, target, parameters) accepted twice by AWS over both runs.
 */
import { tmpdir } from 'node:os';
import { DEADLINE_ENV } from '../../../src/aws/clients.ts';
import type { FaultOptions } from '../../../src/emulator/faults.ts';
import {
  awsArgs,
  type CliResult,
  fixture,
  type PlanDoc,
  parsePlan,
  runCli,
  startTestEmulator,
  type TestEmulator,
  type WriteEntry,
} from '../cli/harness.ts';

/** Per attempt; the emulator answers in milliseconds, so only injected stalls reach it. */
export const FAULT_DEADLINE_MS = 1500;
const HANG_BOUND_MS = 90_000;

export interface Outcome {
  observed: string;
  /** The case-specific expectation held. */
  expected: boolean;
  crashed: boolean;
  hung: boolean;
  lost: number;
  duplicated: number;
}

export interface FaultCase {
  fault: string;
  injection: string;
  expected: string;
  run: () => Promise<Outcome>;
}

export class HangError extends Error {}

async function bounded<T>(work: Promise<T>, ms = HANG_BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HangError(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function cli(argv: string[], deadlineMs = FAULT_DEADLINE_MS): Promise<CliResult> {
  const previous = process.env[DEADLINE_ENV];
  process.env[DEADLINE_ENV] = String(deadlineMs);
  try {
    return await bounded(runCli(argv));
  } finally {
    if (previous === undefined) delete process.env[DEADLINE_ENV];
    else process.env[DEADLINE_ENV] = previous;
  }
}

/** An exit code outside the contract, or an escaped exception (its stack trace, or a programming error's name). */
export function crashedIn(result: CliResult): boolean {
  return (
    ![0, 1, 2].includes(result.code) ||
    /^\s+at .+:\d+:\d+\)?$/m.test(result.stderr) ||
    /\b(TypeError|RangeError|ReferenceError)\b/.test(result.stderr)
  );
}

/**
 * Waits until the emulator's write log stops growing: a write delayed past the client's deadline still lands, and
 * the next pass comes after it (the controller's interval is at least 30 s), not in the same millisecond.
 */
async function quiesce(emu: TestEmulator, settleMs: number): Promise<void> {
  if (settleMs <= 0) return;
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  let count = (await emu.writes()).length;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = (await emu.writes()).length;
    if (next === count) return;
    count = next;
  }
}

const target = (w: WriteEntry): string => `${w.region}/${w.function ?? w.resourceId ?? '?'}`;

export function duplicatedWrites(writes: readonly WriteEntry[]): number {
  const seen = new Map<string, number>();
  for (const w of writes) {
    if (!w.ok) continue;
    const key = `${w.api} ${target(w)} ${JSON.stringify(w.params)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  let extra = 0;
  for (const n of seen.values()) extra += n - 1;
  return extra;
}

export const actionsLeft = (doc: PlanDoc): number => doc.functions.reduce((n, f) => n + f.actions.length, 0);

export interface ApplyRun {
  emu: TestEmulator;
  result: CliResult;
  doc: PlanDoc | undefined;
  /** Accepted writes of the faulted run. */
  writes: WriteEntry[];
}

export interface ApplyScenario {
  faults?: FaultOptions;
  /** Runs `plan` instead of `apply` under the fault. */
  command?: 'apply' | 'plan';
  deadlineMs?: number;
  /** Wait this long (then until no write lands) before counting and recovering: for writes delayed past deadlines. */
  settleMs?: number;
  /**
   * Writes that must be sent twice, with the reason: e.g. an update AWS accepted but then failed (the old
   * configuration stays) is rightly sent again. Subtracted from the duplicates, and said in the observed column.
   */
  resends?: { count: number; why: string };
  /** The case's own expectation on the faulted run: a problem, or undefined when it held. */
  check: (run: ApplyRun) => string | undefined | Promise<string | undefined>;
}

/** The faulted run on the purpose-made fleet, then a clean `apply` and a final `plan` to count what was lost. */
export async function applyScenario(scenario: ApplyScenario): Promise<Outcome> {
  const emu = await startTestEmulator(fixture('small-fleet.yaml'));
  try {
    if (scenario.faults) await emu.admin('POST', 'faults', scenario.faults);
    const argv = [scenario.command ?? 'apply', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)];
    let result: CliResult;
    try {
      result = await cli(argv, scenario.deadlineMs);
    } catch (error) {
      if (error instanceof HangError) return hungOutcome(error);
      throw error;
    }
    await quiesce(emu, scenario.settleMs ?? 0);
    const writes = (await emu.writes()).filter((w) => w.ok);
    let doc: PlanDoc | undefined;
    try {
      doc = parsePlan(result.stdout);
    } catch {
      doc = undefined;
    }
    const problem = await scenario.check({ emu, result, doc, writes });

    await emu.admin('DELETE', 'faults');
    const recovery = await cli(['apply', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);
    const final = await cli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);
    const allWrites = await emu.writes();
    const lost = actionsLeft(parsePlan(final.stdout));
    const firstLine = result.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';
    const resends = scenario.resends;
    const duplicated = duplicatedWrites(allWrites) - (resends?.count ?? 0);
    const notes = [
      `exit ${result.code}, ${writes.length} writes`,
      firstLine ? shorten(firstLine) : '',
      resends ? `${resends.count} re-send (${resends.why})` : '',
      problem ? `UNEXPECTED: ${problem}` : '',
    ];
    return {
      observed: notes.filter(Boolean).join('; '),
      expected: problem === undefined,
      crashed: crashedIn(result) || crashedIn(recovery),
      hung: false,
      lost,
      duplicated,
    };
  } finally {
    await emu.stop();
  }
}

export function hungOutcome(error: Error): Outcome {
  return { observed: `HUNG: ${error.message}`, expected: false, crashed: false, hung: true, lost: 0, duplicated: 0 };
}

/** A CLI run that needs no AWS state (bad input): its exit code and message are the expectation. */
export async function inputCase(
  argv: string[],
  expectCode: number,
  expectStderr: RegExp,
  writesOf?: () => Promise<number>,
): Promise<Outcome> {
  let result: CliResult;
  try {
    result = await cli(argv);
  } catch (error) {
    if (error instanceof HangError) return hungOutcome(error);
    throw error;
  }
  const problems: string[] = [];
  if (result.code !== expectCode) problems.push(`exit ${result.code}, expected ${expectCode}`);
  if (!expectStderr.test(result.stderr)) problems.push(`stderr ${JSON.stringify(shorten(result.stderr))}`);
  const writes = writesOf ? await writesOf() : 0;
  if (writes > 0) problems.push(`${writes} writes`);
  const firstLine = result.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';
  return {
    observed: `exit ${result.code}${firstLine ? `; ${shorten(firstLine)}` : ''}${problems.length ? `; UNEXPECTED: ${problems.join(', ')}` : ''}`,
    expected: problems.length === 0,
    crashed: crashedIn(result),
    hung: false,
    lost: 0,
    duplicated: 0,
  };
}

export function shorten(text: string, max = 110): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/** Markdown table cell: pipes escaped, on one line. */
export function cell(text: string): string {
  // Temporary directories differ per run; the table should not.
  const stable = text.replace(
    new RegExp(`${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lpc-faults-[^/]+/`, 'g'),
    '',
  );
  return stable.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
