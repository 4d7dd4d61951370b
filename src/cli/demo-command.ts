/**
 * `lambda-policy-controller demo` (what `npm start` runs): the emulator seeded from examples/fleet.yaml, policies
 * from examples/policies/ (edits are picked up live), the controller's own reconcile loop, and a live view of
 * functions found, drift, fixes and compliance. `--once` exits 0 as soon as the fleet has converged.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createAws } from '../aws/index.ts';
import { Manager } from '../controller/manager.ts';
import { MemoryStatusSink } from '../controller/memory-sink.ts';
import { FilePolicySource } from '../sources/files.ts';
import { DemoView } from './demo-view.ts';
import { startEmbeddedAws } from './embedded-aws.ts';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.ts';

export interface DemoOptions {
  filename?: string[];
  seed?: string;
  once: boolean;
  timeout: number;
  port: number;
  /** Resolves to stop (tests); default SIGINT/SIGTERM. */
  until?: Promise<unknown>;
  out?: NodeJS.WriteStream;
}

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const paths = opts.filename ?? [`${EXAMPLES}policies`];
  const seedPath = opts.seed ?? `${EXAMPLES}fleet.yaml`;
  const embedded = await startEmbeddedAws(seedPath, { port: opts.port });
  const aws = createAws({ regions: embedded.regions, endpoint: embedded.url });
  const source = new FilePolicySource(paths);
  const sink = new MemoryStatusSink();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' }, process.stderr);
  const view = new DemoView(out, { emulatorUrl: embedded.url, policyPaths: paths, sink });
  const converged = new Set<string>();
  let resolveConverged: (() => void) | undefined;
  const allConverged = new Promise<void>((resolve) => {
    resolveConverged = resolve;
  });
  const manager = new Manager({
    source,
    aws,
    defaultRegions: embedded.regions,
    sink,
    logger,
    recheckAfterWritesMs: 250,
    execute: { pollIntervalMs: 100 },
    onPass: (region, pass) => {
      view.onPass(region, pass);
      const pending = pass.plan.functions.some((f) => f.actions.length > 0);
      if (pending) converged.delete(region);
      else converged.add(region);
      if (embedded.regions.every((r) => converged.has(r))) resolveConverged?.();
    },
  });
  try {
    await source.start();
    source.onError((errors) => view.onPolicyErrors(errors));
    if (source.current().errors.length > 0) view.onPolicyErrors(source.current().errors);
    manager.start();
    view.start();
    const stop =
      opts.until ??
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    if (!opts.once) {
      await stop;
      return EXIT_OK;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeout * 1000);
    });
    const result = await Promise.race([
      allConverged.then(() => 'converged' as const),
      timeout,
      stop.then(() => 'stopped' as const),
    ]);
    clearTimeout(timer);
    view.render();
    out.write(result === 'converged' ? 'demo: the fleet has converged\n' : `demo: not converged (${result})\n`);
    return result === 'converged' ? EXIT_OK : EXIT_ERROR;
  } finally {
    view.stop();
    await manager.stop();
    await source.stop();
    aws.destroy();
    await embedded.stop();
  }
}
