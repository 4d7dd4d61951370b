/**
 * moto's AWS emulator (PyPI moto[server]) as an independent AWS peer: someone else's reading of the Lambda and
 * Application Auto Scaling APIs, reached through the real AWS SDK over HTTP.
 *
 *   const moto = await startMoto();
 *   const lambda = new LambdaClient(moto.clientConfig);
 *   ...
 *   await moto.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testInfraBinary, testInfraBinDir } from './binaries.ts';
import { ProcessExitedError } from './errors.ts';
import { ManagedProcess, onProcessExit } from './processes.ts';
import { freeLoopbackPort, waitUntil } from './wait.ts';

export interface MotoOptions {
  readonly binDir?: string;
  /** Extra environment for moto_server; merged over the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
  readonly region?: string;
  /** Keep the work folder (moto.log) after stop(). Default: env LPC_E2E_KEEP=1. */
  readonly keepWorkDir?: boolean;
  /** Hang guard for the start. Default 120 s. */
  readonly readyTimeoutMs?: number;
}

/** Shape accepted by every AWS SDK v3 client constructor (LambdaClient, ApplicationAutoScalingClient, ...). */
export interface MotoClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  /** Endpoint, region and fake static credentials for an AWS SDK client. */
  readonly clientConfig: MotoClientConfig;
  readonly logFile: string;
  /** Forget every resource (POST /moto-api/reset), to isolate tests sharing one server. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const MOTO_DEFAULT_ENV: Readonly<Record<string, string>> = {
  // moto's default quota is too small for the "unreserved concurrency stays >= 100" rule to ever pass.
  MOTO_LAMBDA_CONCURRENCY_QUOTA: '1000',
};

const START_ATTEMPTS = 3;

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const binDir = options.binDir ?? testInfraBinDir();
  const region = options.region ?? 'us-east-1';
  const keepWorkDir = options.keepWorkDir ?? process.env.LPC_E2E_KEEP === '1';
  const workDir = mkdtempSync(join(tmpdir(), 'lpc-moto-'));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, region, workDir, keepWorkDir, options);
    } catch (error) {
      const portClash = error instanceof ProcessExitedError && /address already in use/i.test(error.logTail);
      if (!portClash || attempt >= START_ATTEMPTS) {
        if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

async function startOnce(
  binDir: string,
  region: string,
  workDir: string,
  keepWorkDir: boolean,
  options: MotoOptions,
): Promise<MotoServer> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(workDir, `moto-${port}.log`);
  const moto = ManagedProcess.start({
    name: 'moto_server',
    command: testInfraBinary('moto_server', binDir),
    args: ['-H', '127.0.0.1', '-p', String(port)],
    env: { ...MOTO_DEFAULT_ENV, AWS_DEFAULT_REGION: region, ...options.env },
    logFile,
    ...(keepWorkDir ? {} : { orphanCleanupDir: workDir }),
  });
  try {
    await waitUntil(
      `moto_server at ${url}`,
      async () => {
        moto.assertRunning();
        const response = await fetch(`${url}/moto-api/`);
        await response.body?.cancel();
        return response.ok;
      },
      { timeoutMs: options.readyTimeoutMs ?? 120_000, intervalMs: 250 },
    );
  } catch (error) {
    await moto.stop(2_000);
    throw error;
  }
  const removeWorkDir = (): void => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  };
  const forgetExitHook = onProcessExit(removeWorkDir);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await moto.stop();
      forgetExitHook();
      removeWorkDir();
    })();
    return stopping;
  };
  return {
    url,
    port,
    region,
    logFile,
    clientConfig: { endpoint: url, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
    async reset() {
      const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Creates an IAM role in moto (its CreateFunction needs the execution role to exist) and returns its ARN.
 * @aws-sdk/client-iam is not a dependency and moto does not check signatures, so a plain query-protocol request
 * with an IAM credential scope does it. Idempotent.
 */
export async function createMotoLambdaRole(url: string, roleName: string, region = 'us-east-1'): Promise<string> {
  const form = new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: form.toString(),
  });
  const text = await response.text();
  if (!response.ok && !text.includes('EntityAlreadyExists')) {
    throw new Error(`moto CreateRole failed: HTTP ${response.status} ${text.slice(0, 300)}`);
  }
  return `arn:aws:iam::123456789012:role/${roleName}`;
}
