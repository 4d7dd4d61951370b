/**
 * The local AWS emulator: an HTTP server speaking Lambda REST-JSON, Application Auto Scaling and Resource Groups
 * Tagging JSON 1.1, and STS query, so an unchanged AWS SDK v3 client with `endpoint: emulator.url` works.
 * See docs/emulator.md for the admin endpoints and what it emulates.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applySeedAccounts } from './accounts.ts';
import { snapshotState } from './admin-api.ts';
import type { FaultOptions } from './faults.ts';
import { applySeedOrganization } from './organizations.ts';
import type { QuotaOptions } from './quotas.ts';
import { EmulatorRuntime } from './runtime.ts';
import type { SeedDocument } from './seed.ts';
import { applySeed } from './seed.ts';
import { createRequestHandler } from './server.ts';

export { emulatorAdmin } from './admin-client.ts';
export { runEmulatorCommand } from './command.ts';
export type { FaultOptions } from './faults.ts';
export type { QuotaOptions } from './quotas.ts';
export type { CallCounts, WriteLogEntry } from './runtime.ts';
export type { SeedDocument, SeedFunction } from './seed.ts';
export { loadSeedFile } from './seed.ts';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  seed?: SeedDocument;
  /** How long LastUpdateStatus stays InProgress after an update (default 0: done by the next read). */
  updateDelayMs?: number;
  /** How long provisioned concurrency stays IN_PROGRESS before READY (default 0). */
  provisionDelayMs?: number;
  /** Enforced when given (unless `enabled: false`); off by default. */
  quotas?: QuotaOptions;
  faults?: FaultOptions;
  /** Start the emulator clock at this time (it keeps running from there). */
  now?: Date;
  /** Real-time scheduler tick in ms (default 1000; 0 disables the timer: fire only on clock moves/requests). */
  tickMs?: number;
}

export type EmulatorStateSnapshot = ReturnType<typeof snapshotState>;

export interface Emulator {
  /** `http://host:port`: use as the SDK `endpoint`. */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** The live runtime (store, write log, call counts), for in-process inspection. */
  runtime: EmulatorRuntime;
  /** The same view as `GET /_emulator/state`. */
  state(): EmulatorStateSnapshot;
  clock: {
    now(): Date;
    /** Sets the clock and fires scheduled actions that became due; returns how many fired. */
    set(date: Date): number;
    /** Moves the clock forward and fires scheduled actions that became due; returns how many fired. */
    advance(seconds: number): number;
  };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const runtime = new EmulatorRuntime({
    ...(options.seed?.accountId ? { accountId: options.seed.accountId } : {}),
    ...(options.seed?.accountConcurrency !== undefined ? { accountConcurrency: options.seed.accountConcurrency } : {}),
    ...(options.seed?.unreservedFloor !== undefined ? { unreservedFloor: options.seed.unreservedFloor } : {}),
    ...(options.updateDelayMs !== undefined ? { updateDelayMs: options.updateDelayMs } : {}),
    ...(options.provisionDelayMs !== undefined ? { provisionDelayMs: options.provisionDelayMs } : {}),
    // Passing quotas means enforcing them unless `enabled: false` says otherwise (same as POST /_emulator/quotas).
    ...(options.quotas ? { quotas: { enabled: true, ...options.quotas } } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  if (options.faults) runtime.faults.configure(options.faults);
  if (options.seed) applySeed(runtime.store, options.seed, runtime.nowMs());
  if (options.seed?.accounts) applySeedAccounts(runtime, options.seed.accounts, true);
  if (options.seed?.organization) applySeedOrganization(runtime, options.seed.organization);

  const server = createServer(createRequestHandler(runtime));
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const tickMs = options.tickMs ?? 1000;
  const timer = tickMs > 0 ? setInterval(() => runtime.fireDue(), tickMs) : undefined;
  timer?.unref();

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    runtime,
    state: () => snapshotState(runtime),
    clock: {
      now: () => runtime.clock.now(),
      set: (date) => {
        runtime.clock.set(date);
        return runtime.fireDue();
      },
      advance: (seconds) => {
        runtime.clock.advance(seconds);
        return runtime.fireDue();
      },
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
