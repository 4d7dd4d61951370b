/**
 * Polling with a generous timeout: the timeout is a hang guard, never a performance check. Unlike the harness'
 * waitUntil, the probe returns the value it waited for (a status, a log line), and a timeout says what was last
 * seen, so a failure reads "waited for X; last saw Y".
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'WAIT_TIMEOUT';
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Describes the last observation for the timeout message (default: JSON of the probe's last `seen`). */
  readonly describe?: () => string;
}

/**
 * Calls `probe` until it returns something other than undefined/false. A probe that throws counts as "not yet",
 * except for errors with code PROCESS_EXITED (a dead controller will not get there).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'never probed';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = 'not yet';
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'PROCESS_EXITED') {
        throw error;
      }
      last = error instanceof Error ? error.message : error;
    }
    if (Date.now() >= deadline) {
      const seen = options.describe ? options.describe() : String(last);
      throw new WaitTimeoutError(`waited ${timeoutMs / 1000} s for ${what}; last seen: ${seen}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
