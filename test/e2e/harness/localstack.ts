/**
 * LocalStack's core (PyPI localstack-core, installed by hack/install-localstack.sh) as a third AWS implementation:
 * one Python process serving the Lambda control plane on a loopback port, no Docker. Functions are created, listed,
 * versioned, aliased and given concurrency; none can run, so they never become Active (see docs/emulator-vs-moto.md).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVersionsEnv, testInfraCacheRoot, VERSIONS_FILE } from './binaries.ts';
import { TestInfraError } from './errors.ts';
import { ManagedProcess, onProcessExit } from './processes.ts';
import { freeLoopbackPort, waitUntil } from './wait.ts';

export interface LocalStackServer {
  readonly url: string;
  readonly region: string;
  readonly version: string;
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
    readonly maxAttempts: number;
  };
  readonly logFile: string;
  stop(): Promise<void>;
}

/** LocalStack's default account (it derives the account from the access key; `test` maps to this one). */
export const LOCALSTACK_ACCOUNT = '000000000000';

/** The venv's Python of the pinned LocalStack (same folder as hack/install-localstack.sh's component_dir). */
export function localStackPython(env: NodeJS.ProcessEnv = process.env): { python: string; version: string } {
  const values = parseVersionsEnv(readFileSync(VERSIONS_FILE, 'utf8'));
  const version = values.LOCALSTACK_VERSION;
  const revision = values.RECIPE_REVISION;
  if (!version || !revision) {
    throw new TestInfraError('TEST_INFRA_MISSING', `${VERSIONS_FILE} does not set LOCALSTACK_VERSION`);
  }
  const python = join(
    testInfraCacheRoot(env),
    'components',
    `localstack-${version}-r${revision}`,
    'venv',
    'bin',
    'python',
  );
  if (!existsSync(python)) {
    throw new TestInfraError(
      'TEST_INFRA_MISSING',
      `LocalStack ${version} is not installed (${python}): run hack/install-localstack.sh`,
    );
  }
  return { python, version };
}

export async function startLocalStack(
  options: { region?: string; readyTimeoutMs?: number } = {},
): Promise<LocalStackServer> {
  const { python, version } = localStackPython();
  const region = options.region ?? 'us-east-1';
  const workDir = mkdtempSync(join(tmpdir(), 'lpc-localstack-'));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(workDir, 'localstack.log');
  const server = ManagedProcess.start({
    name: 'localstack',
    command: python,
    args: ['-m', 'localstack.runtime.main'],
    env: {
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      LOCALSTACK_HOST: `127.0.0.1:${port}`,
      SERVICES: 'lambda,sts,iam',
      // No DNS server (it would want port 53), no telemetry, no certificate download: nothing leaves the machine.
      DNS_ADDRESS: '0',
      DISABLE_EVENTS: '1',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      LOCALSTACK_VOLUME_DIR: join(workDir, 'volume'),
      AWS_DEFAULT_REGION: region,
    },
    logFile,
    cwd: workDir,
    orphanCleanupDir: workDir,
  });
  try {
    await waitUntil(
      `LocalStack at ${url}`,
      async () => {
        server.assertRunning();
        const response = await fetch(`${url}/_localstack/health`);
        if (!response.ok) return false;
        const health = (await response.json()) as { services?: Record<string, string> };
        return ['available', 'running'].includes(health.services?.lambda ?? '');
      },
      { timeoutMs: options.readyTimeoutMs ?? 180_000, intervalMs: 500 },
    );
  } catch (error) {
    await server.stop(2_000);
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  const forget = onProcessExit(() => rmSync(workDir, { recursive: true, force: true }));
  let stopping: Promise<void> | undefined;
  return {
    url,
    region,
    version,
    logFile,
    clientConfig: {
      endpoint: url,
      region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    },
    stop: () => {
      stopping ??= (async () => {
        await server.stop();
        forget();
        rmSync(workDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
