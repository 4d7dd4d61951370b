/** Polling helpers for readiness: a timeout is a safety net against a hung server, never a performance check. */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotReadyError } from './errors.ts';

/**
 * Calls `probe` until it returns true. `probe` may throw: a TestInfraError with code PROCESS_EXITED is
 * rethrown at once (no point waiting for a dead server), anything else counts as "not yet".
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastProblem: unknown = 'never probed';
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
      lastProblem = 'probe returned false';
    } catch (error) {
      if (isFatal(error)) throw error;
      lastProblem = error;
    }
    await sleep(options.intervalMs ?? 200);
  }
  throw new NotReadyError(what, options.timeoutMs, lastProblem);
}

function isFatal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'PROCESS_EXITED';
}

/**
 * A loopback port that was free a moment ago (the kernel picks it). Another process can take it before the
 * server binds it; the control plane retries with new ports when a server dies at start.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolvePort(port)));
    });
  });
}
