/**
 * The worker loop around a WorkQueue, with controller-runtime's result rules:
 * - success: `forget` the key's backoff; `requeueAfterMs` schedules the next visit (the policy's interval);
 * - a thrown error: retry with the key's exponential backoff;
 * - a thrown TerminalError: never retried (the next watch event or relist brings the key back).
 * Handlers get only the key, so reconciliation is level-based: re-read the world, never trust an event's contents.
 */
import type { WorkQueue } from './queue.ts';

export interface ReconcileResult {
  /** Visit the key again after this many ms (e.g. the policy's interval, or the next window edge). */
  requeueAfterMs?: number;
}

export type ReconcileHandler = (key: string) => Promise<ReconcileResult | undefined>;

/** An error the reconciler knows retrying cannot fix (e.g. an invalid object); the key is not requeued. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  readonly code = 'Terminal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

export interface WorkerHooks {
  /** Called after every reconcile with its outcome and duration in ms (for metrics and logs). */
  onResult?: (key: string, outcome: ReconcileOutcome, durationMs: number, error?: unknown) => void;
  /** Monotonic time source for durations; default performance.now. */
  now?: () => number;
}

/**
 * Runs `concurrency` workers until the queue shuts down. Resolves when all workers have exited.
 * Different keys run in parallel; one key never runs twice at once (the queue guarantees it).
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: ReconcileHandler,
  hooks: WorkerHooks = {},
): Promise<void> {
  const now = hooks.now ?? (() => performance.now());
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = now();
      try {
        const result = await handler(key);
        queue.forget(key);
        const after = result?.requeueAfterMs;
        if (after !== undefined && after >= 0) {
          queue.addAfter(key, after);
          hooks.onResult?.(key, 'requeue', now() - started);
        } else {
          hooks.onResult?.(key, 'success', now() - started);
        }
      } catch (error) {
        if (error instanceof TerminalError) {
          queue.forget(key);
          hooks.onResult?.(key, 'terminal', now() - started, error);
        } else {
          queue.addRateLimited(key);
          hooks.onResult?.(key, 'error', now() - started, error);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
}

/** The subset of PolicyWatcher the queue bridge needs. */
export interface KeyEventSource<E extends { key: string }> {
  on(listener: (event: E) => void): () => void;
}

/**
 * Feeds a watcher's key-level events into the queue, keeping only those `relevant` says should wake a reconcile
 * (pass watcher.ts' `needsReconcile`, so our own status and finalizer writes never wake us). Returns the
 * unsubscribe function. Only the key is queued: the reconciler re-reads the object from the watcher's cache.
 */
export function enqueueEvents<E extends { key: string }>(
  source: KeyEventSource<E>,
  queue: WorkQueue,
  relevant: (event: E) => boolean,
): () => void {
  return source.on((event) => {
    if (relevant(event)) queue.add(event.key);
  });
}
