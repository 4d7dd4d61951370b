/**
 * Cost estimates shown in status and in `plan`: the monthly price of a policy's provisioned-concurrency schedule and
 * the monthly saving of moving functions from x86_64 to arm64. Prices are AWS's us-east-1 list prices; they live
 * in this one table so a price change is a one-line diff.
 */
import type { Architecture } from './model.ts';
import { DAY_MS } from './windows.ts';

export const PRICES_USD: Record<Architecture, { durationPerGbSecond: number; provisionedPerGbSecond: number }> = {
  x86_64: { durationPerGbSecond: 0.0000166667, provisionedPerGbSecond: 0.0000041667 },
  arm64: { durationPerGbSecond: 0.0000133334, provisionedPerGbSecond: 0.0000033334 },
};

/** A billing month for estimates: 30 days = 720 h. */
export const MONTH_MS = 30 * DAY_MS;
/**
 * Schedules are integrated over four whole weeks and scaled to a month: daily and weekly schedules repeat exactly
 * within 28 days, so the estimate stays the same as time passes (a window open at one end of a sliding 30-day span
 * and closed at the other would change the cents every few minutes, and with them the status, each check).
 */
export const COST_SAMPLE_MS = 28 * DAY_MS;

export function roundCents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

/**
 * Monthly cost (unrounded) of keeping `valueSeconds` provisioned-concurrency-seconds (∫ value dt over a month)
 * on a function with `memorySize` MB on `architecture`.
 */
export function provisionedMonthlyUSD(memorySize: number, valueSeconds: number, architecture: Architecture): number {
  return (memorySize / 1024) * valueSeconds * PRICES_USD[architecture].provisionedPerGbSecond;
}

/** Monthly saving (unrounded) of running `monthlyGbSeconds` of duration on arm64 instead of x86_64. */
export function arm64MonthlySavingUSD(monthlyGbSeconds: number): number {
  return monthlyGbSeconds * (PRICES_USD.x86_64.durationPerGbSecond - PRICES_USD.arm64.durationPerGbSecond);
}

/** Accumulates one policy's estimate across the functions it governs. */
export class CostAccumulator {
  #provisioned = 0;
  #saving = 0;
  #savingKnown = false;

  addProvisioned(memorySize: number, valueSeconds: number, architecture: Architecture): void {
    this.#provisioned += provisionedMonthlyUSD(memorySize, valueSeconds, architecture);
  }

  /** A function the policy moves from x86_64 to arm64; without GB-seconds its saving is unknown and skipped. */
  addArchitectureMove(monthlyGbSeconds: number | undefined): void {
    if (monthlyGbSeconds === undefined || !Number.isFinite(monthlyGbSeconds) || monthlyGbSeconds < 0) return;
    this.#saving += arm64MonthlySavingUSD(monthlyGbSeconds);
    this.#savingKnown = true;
  }

  result(): { provisionedConcurrencyMonthlyUSD: number; architectureMonthlySavingUSD?: number } {
    const out: { provisionedConcurrencyMonthlyUSD: number; architectureMonthlySavingUSD?: number } = {
      provisionedConcurrencyMonthlyUSD: roundCents(this.#provisioned),
    };
    if (this.#savingKnown) out.architectureMonthlySavingUSD = roundCents(this.#saving);
    return out;
  }
}
