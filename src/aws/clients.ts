/**
 * One set of AWS SDK v3 clients per region. Credentials come from the SDK's default provider chain (environment,
 * profile, web identity/IRSA, EKS Pod Identity, IMDS), so nothing here knows how the pod is authenticated.
 */
import { createRequire } from 'node:module';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Refreshing credentials (an assumed role's, src/aws/credentials.ts). */
export type CredentialsFunction = () => Promise<StaticCredentials & { expiration?: Date }>;

export interface ClientsConfig {
  /** Custom endpoint for every service, e.g. the emulator at `http://127.0.0.1:4566`. */
  endpoint?: string;
  /** Explicit credentials (tests, assumed roles); normally absent so the default provider chain is used. */
  credentials?: StaticCredentials | CredentialsFunction;
  /** Per-request socket timeout; a hung connection becomes a retryable error instead of a stuck reconcile. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Environment to inspect for credentials (default process.env); injectable for tests. */
  env?: NodeJS.ProcessEnv;
}

export interface RegionClients {
  region: string;
  lambda: LambdaClient;
  autoscaling: ApplicationAutoScalingClient;
  tagging: ResourceGroupsTaggingAPIClient;
  sts: STSClient;
}

export const USER_AGENT_APP_ID = 'lambda-policy-controller';

function readPackageVersion(): string {
  try {
    // src/aws and dist/aws are both two levels below package.json.
    const pkg: unknown = createRequire(import.meta.url)('../../package.json');
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version;
    }
  } catch {
    // Bundled or relocated: fall through.
  }
  return '0.0.0';
}

export const CONTROLLER_VERSION = readPackageVersion();

/** The environment variables through which the default chain could find credentials without a file or network. */
const CREDENTIAL_ENV_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
];

export function hasEnvCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  return CREDENTIAL_ENV_VARS.some((name) => (env[name] ?? '') !== '');
}

/**
 * Credentials to pass to the SDK, or undefined for the default provider chain. Dummy credentials only when an
 * endpoint is set (the emulator ignores signatures) and the environment offers none: a real AWS endpoint never
 * gets them, and a configured IRSA/Pod Identity/profile always wins.
 */
export function resolveCredentials(config: ClientsConfig): StaticCredentials | undefined {
  if (config.credentials && typeof config.credentials !== 'function') return config.credentials;
  if (config.endpoint !== undefined && !hasEnvCredentials(config.env ?? process.env)) {
    return { accessKeyId: 'lambda-policy-controller', secretAccessKey: 'emulator-does-not-check-signatures' };
  }
  return undefined;
}

/** The region used when none is configured: AWS_REGION / AWS_DEFAULT_REGION, as the SDK would. */
export function defaultRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

export function sdkClientConfig(region: string, config: ClientsConfig) {
  const credentials = typeof config.credentials === 'function' ? config.credentials : resolveCredentials(config);
  return {
    region,
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    // Our RateLimiter owns retries, throttling and backoff; SDK retries would bypass the token buckets.
    maxAttempts: 1,
    customUserAgent: [[USER_AGENT_APP_ID, CONTROLLER_VERSION]] as [string, string][],
    userAgentAppId: USER_AGENT_APP_ID,
    requestHandler: {
      requestTimeout: config.requestTimeoutMs ?? 30_000,
      connectionTimeout: config.connectionTimeoutMs ?? 5_000,
    },
  };
}

export function createRegionClients(region: string, config: ClientsConfig = {}): RegionClients {
  const sdk = sdkClientConfig(region, config);
  return {
    region,
    lambda: new LambdaClient(sdk),
    autoscaling: new ApplicationAutoScalingClient(sdk),
    tagging: new ResourceGroupsTaggingAPIClient(sdk),
    sts: new STSClient(sdk),
  };
}

/** Lazily creates and caches the clients of each region. */
export class ClientPool {
  private readonly config: ClientsConfig;
  private readonly byRegion = new Map<string, RegionClients>();

  constructor(config: ClientsConfig = {}) {
    this.config = config;
  }

  get(region: string): RegionClients {
    let clients = this.byRegion.get(region);
    if (!clients) {
      clients = createRegionClients(region, this.config);
      this.byRegion.set(region, clients);
    }
    return clients;
  }

  destroy(): void {
    for (const c of this.byRegion.values()) {
      c.lambda.destroy();
      c.autoscaling.destroy();
      c.tagging.destroy();
      c.sts.destroy();
    }
    this.byRegion.clear();
  }
}
