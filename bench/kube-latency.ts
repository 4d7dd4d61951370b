/**
 * Section 5: `kubectl apply` of a LambdaPolicy to the controller's first AWS write, on the local test cluster (a
 * real etcd + kube-apiserver from test/e2e/harness) with the controller as a child process
 * (`bin/lambda-policy-controller.js run`) pointed at an emulator. Each trial applies a new policy for a function
 * that drifts; the clock starts before kubectl is spawned and stops at the write's timestamp in the emulator's
 * write log. Skipped when the test binaries are missing (hack/ensure-test-infra.sh builds them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.ts';
import { REPO_ROOT, startControlPlane, testInfraBinDir } from '../test/e2e/harness/index.ts';
import { freeLoopbackPort, waitUntil } from '../test/e2e/harness/wait.ts';

const REGION = 'eu-central-1';
const CRD_PATH = join(REPO_ROOT, 'crds', 'lambdapolicies.lambdapolicy.io.yaml');

export type KubeLatencyResult =
  | { skipped: true; reason: string }
  | {
      skipped: false;
      /** Milliseconds per trial, kubectl spawn -> first AWS write, with the controller idle (previous pass done). */
      trialsMs: number[];
      medianMs: number;
      maxMs: number;
      /**
       * The same, applied 300 ms after the previous policy's write: that pass still holds the region key while it
       * waits for LastUpdateStatus (1 s poll), so the new policy waits for it.
       */
      backToBackMs: number[];
      backToBackMedianMs: number;
      /** The first trial after the controller started (connections and code paths still cold). */
      firstMs: number;
      /** kubectl's own share of the first trial (its first run fetches API discovery for the new CRD). */
      firstKubectlMs: number;
      /** How long `kubectl apply` itself took (process start to exit), median: part of every trial. */
      kubectlMedianMs: number;
    };

function manifest(name: string): string {
  return JSON.stringify({
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace: 'default' },
    spec: { selector: { functionNames: [`${name}-fn`] }, settings: { memorySize: 1024 } },
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
};

export async function runKubeLatency(trials: number): Promise<KubeLatencyResult> {
  try {
    testInfraBinDir();
  } catch (error) {
    return { skipped: true, reason: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
  }
  const names = Array.from({ length: 2 * trials + 2 }, (_, i) => `latency-${i}`);
  const emulator = await startEmulator({
    seed: { functions: names.map((n) => ({ name: `${n}-fn`, region: REGION, memorySize: 512 })) },
    tickMs: 0,
  });
  const logDir = mkdtempSync(join(tmpdir(), 'lpc-bench-kube-'));
  let controller: ChildProcess | undefined;
  const cluster = await startControlPlane();
  try {
    await cluster.kubectl(['apply', '-f', CRD_PATH]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/lambdapolicies.lambdapolicy.io',
    ]);
    const healthPort = await freeLoopbackPort();
    const metricsPort = await freeLoopbackPort();
    const log = createWriteStream(join(logDir, 'controller.log'));
    controller = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'lambda-policy-controller.js'),
        'run',
        '--kubeconfig',
        cluster.kubeconfigPath,
        '--regions',
        REGION,
        '--aws-endpoint',
        emulator.url,
        '--health-addr',
        `127.0.0.1:${healthPort}`,
        '--metrics-addr',
        `127.0.0.1:${metricsPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    controller.stdout?.pipe(log);
    controller.stderr?.pipe(log);
    const exited = new Promise<never>((_, reject) =>
      controller?.once('exit', (code) => reject(new Error(`controller exited (${code}); see ${logDir}`))),
    );
    exited.catch(() => {});
    await waitUntil('controller /readyz', async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });

    const firstWriteAt = async (fn: string): Promise<number> => {
      for (;;) {
        const w = emulator.runtime.writes.find((e) => e.function === fn);
        if (w) return Date.parse(w.time);
        await Promise.race([new Promise((r) => setTimeout(r, 2)), exited]);
      }
    };
    const results: number[] = [];
    const kubectlMs: number[] = [];
    for (const name of names) {
      const t0 = Date.now();
      await cluster.apply(manifest(name));
      kubectlMs.push(Date.now() - t0);
      let timer: NodeJS.Timeout | undefined;
      const at = await Promise.race([
        firstWriteAt(`${name}-fn`),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no write for ${name} in 30 s`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      results.push(at - t0);
      // Idle trials (the first half) let the pass finish: GetFunction poll 1 s after the update, then done.
      const idle = results.length <= trials + 1;
      await new Promise((r) => setTimeout(r, idle ? 1_500 : 300));
    }
    const trialsMs = results.slice(1, trials + 1);
    const backToBackMs = results.slice(trials + 2);
    return {
      skipped: false,
      trialsMs,
      medianMs: median(trialsMs),
      maxMs: Math.max(...trialsMs),
      backToBackMs,
      backToBackMedianMs: median(backToBackMs),
      firstMs: results[0] as number,
      firstKubectlMs: kubectlMs[0] as number,
      kubectlMedianMs: median(kubectlMs.slice(1)),
    };
  } finally {
    if (controller && controller.exitCode === null) {
      const gone = new Promise((r) => controller?.once('exit', r));
      controller.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      if (controller.exitCode === null) controller.kill('SIGKILL');
    }
    await cluster.stop();
    await emulator.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}
