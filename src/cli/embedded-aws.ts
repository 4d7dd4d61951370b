/**
 * An in-process emulator for `plan --seed`, `apply --seed` and the demo: the same SDK clients talk to it over HTTP
 * on a free loopback port, so nothing differs from a run against AWS but the endpoint.
 */
import { loadSeedFile, startEmulator } from '../emulator/index.ts';

export interface EmbeddedAws {
  url: string;
  /** Regions that have functions in the seed, sorted. */
  regions: string[];
  stop(): Promise<void>;
}

export async function startEmbeddedAws(seedPath: string, options: { port?: number } = {}): Promise<EmbeddedAws> {
  const seed = await loadSeedFile(seedPath);
  const emulator = await startEmulator({ port: options.port ?? 0, seed });
  const regions = [...new Set((seed.functions ?? []).map((f) => f.region))].sort();
  return { url: emulator.url, regions, stop: () => emulator.stop() };
}
