/**
 * `lambda-policy-controller emulator --port 4566 --seed FILE`: run the emulator in the foreground until SIGINT or
 * SIGTERM. The CLI parses flags and calls this.
 */
import type { QuotaOptions } from './quotas.ts';
import { loadSeedFile } from './seed.ts';

export interface EmulatorCommandOptions {
  port?: number;
  host?: string;
  seedPath?: string;
  updateDelayMs?: number;
  provisionDelayMs?: number;
  quotas?: QuotaOptions;
  /** Where the "listening" line goes (default stdout). */
  log?: (line: string) => void;
  /** Resolves to stop the emulator (default: SIGINT/SIGTERM). */
  until?: Promise<unknown>;
}

export async function runEmulatorCommand(options: EmulatorCommandOptions = {}): Promise<void> {
  const { startEmulator } = await import('./index.ts');
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const seed = options.seedPath ? await loadSeedFile(options.seedPath) : undefined;
  const emulator = await startEmulator({
    port: options.port ?? 4566,
    ...(options.host ? { host: options.host } : {}),
    ...(seed ? { seed } : {}),
    ...(options.updateDelayMs !== undefined ? { updateDelayMs: options.updateDelayMs } : {}),
    ...(options.provisionDelayMs !== undefined ? { provisionDelayMs: options.provisionDelayMs } : {}),
    ...(options.quotas ? { quotas: options.quotas } : {}),
  });
  const functions = seed?.functions?.length ?? 0;
  log(
    `AWS emulator listening on ${emulator.url} (${functions} functions seeded; admin at ${emulator.url}/_emulator/state)`,
  );
  const stopSignal =
    options.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stopSignal;
  await emulator.stop();
  log('AWS emulator stopped');
}
