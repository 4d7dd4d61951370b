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
  const port = options.port ?? 0;
  const emulator = await startEmulator({ port, seed }).catch((error: unknown) => {
    // The well-known port is taken (say, by a standalone emulator): any free port serves the demo as well.
    if (port !== 0 && (error as { code?: string }).code === 'EADDRINUSE') return startEmulator({ port: 0, seed });
    throw error;
  });
  const regions = [...new Set((seed.functions ?? []).map((f) => f.region))].sort();
  return { url: emulator.url, regions, stop: () => emulator.stop() };
}
