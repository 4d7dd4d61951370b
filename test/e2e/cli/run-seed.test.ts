/**
 * `run --seed FILE`: the controller against a real API server and an embedded emulator seeded from the file, no
 * AWS endpoint and no credentials given. The flag was listed in `run --help` but never read; a policy's status now
 * reports the seeded functions it matches.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedFile } from '../../../src/emulator/index.ts';
import { applyPolicy, getPolicy, newNamespace, startClusterWithCrd, statusOf } from '../controller/support/cluster.ts';
import { waitFor } from '../controller/support/wait.ts';
import type { ControlPlane } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { ManagedProcess } from '../harness/processes.ts';

const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const BIN = join(REPO_ROOT, 'bin', 'lambda-policy-controller.js');

let cluster: ControlPlane;
let workDir: string;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  workDir = mkdtempSync(join(tmpdir(), 'lpc-run-seed-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('run --seed', () => {
  it('reconciles against the embedded emulator: the status counts the seeded functions the policy selects', async () => {
    // Arrange: examples/fleet.yaml has eu-central-1 functions tagged tier=api
    const ns = await newNamespace(cluster, 'seed');
    await applyPolicy(cluster, ns, 'api', {
      mode: 'Audit',
      selector: { regions: ['eu-central-1'], tags: { tier: 'api' } },
      settings: { memorySize: 1024 },
    });
    const logFile = join(workDir, 'controller.log');
    const controller = ManagedProcess.start({
      name: 'controller (run --seed)',
      command: NODE,
      args: [
        BIN,
        'run',
        '--kubeconfig',
        cluster.kubeconfigPath,
        '--seed',
        join(REPO_ROOT, 'examples', 'fleet.yaml'),
        '--metrics-addr',
        '127.0.0.1:0',
        '--health-addr',
        '127.0.0.1:0',
      ],
      cwd: REPO_ROOT,
      logFile,
      // No endpoint, region or credentials from the machine: everything must come from the seed.
      env: {
        AWS_PROFILE: '',
        AWS_REGION: '',
        AWS_DEFAULT_REGION: '',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      },
    });
    try {
      // Act
      const matched = await waitFor(
        'the policy status to count matched functions',
        async () => {
          const policy = await getPolicy(cluster, ns, 'api');
          const n = statusOf(policy).summary?.matched ?? 0;
          return n > 0 ? n : undefined;
        },
        { timeoutMs: 90_000, describe: () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') },
      );

      // Assert: exactly the seed's tier=api functions in eu-central-1
      const seed = await loadSeedFile(join(REPO_ROOT, 'examples', 'fleet.yaml'));
      const expected = (seed.functions ?? []).filter((f) => f.region === 'eu-central-1' && f.tags?.tier === 'api');
      expect(expected.length).toBeGreaterThan(0);
      expect(matched).toBe(expected.length);
      expect(readFileSync(logFile, 'utf8')).toContain('embedded AWS emulator started');
    } finally {
      await controller.stop();
    }
  });
});
