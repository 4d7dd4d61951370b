/**
 * One set of AWS SDK v3 clients per region. Credentials come from the SDK's default provider chain (environment,
 * profile, web identity/IRSA, EKS Pod Identity, IMDS), so nothing here knows how the pod is authenticated.
 */
import { createRequire } from 'node:module';
import { pipeline, Readable, Transform } from 'node:stream';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Refreshing credentials (an assumed role's, src/aws/credentials.ts). */
export type CredentialsFunction = (() => Promise<StaticCredentials & { expiration?: Date }>) & {
  /**
   * AWS refused the credentials with this access key id as expired: forget them, so the next ask assumes the role
   * again (a session can end before its Expiration, e.g. when the role's sessions are revoked).
   */
  expired?: (accessKeyId: string) => void;
};

/** The answers AWS gives a request signed with expired temporary credentials (STS's and the other services'). */
const EXPIRED_TOKEN_CODES = new Set(['ExpiredToken', 'ExpiredTokenException']);

type Handler<A, R> = (args: A) => Promise<R>;

function accessKeyOf(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null || !('headers' in request)) return undefined;
  const headers = request.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const auth = (headers as Record<string, unknown>).authorization ?? (headers as Record<string, unknown>).Authorization;
  return typeof auth === 'string' ? /Credential=([^/]+)\//.exec(auth)?.[1] : undefined;
}

/**
 * An answer "your token expired" is not a failure of the call: the request was refused before AWS acted on it, so
 * the credentials are refreshed and the same call is sent once more (re-serialized and re-signed: the retry starts
 * at the initialize step). A write therefore never fails because a session ended in the middle of a pass. The
 * access key actually signed with is read back after signing (`capture`, at the deserialize step), so concurrent
 * calls that all meet the same expiry make one refresh, not one each. Add both to a client's middleware stack
 * (`capture` with CAPTURE_STEP, `retry` with RETRY_STEP).
 */
export function expiredTokenMiddleware(credentials: CredentialsFunction) {
  const signedWith = new WeakMap<object, string>();
  return {
    capture:
      <A extends { request: unknown }, R>(next: Handler<A, R>, context: object): Handler<A, R> =>
      async (args) => {
        const key = accessKeyOf(args.request);
        if (key !== undefined) signedWith.set(context, key);
        return next(args);
      },
    retry:
      <A, R>(next: Handler<A, R>, context: object): Handler<A, R> =>
      async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
          if (typeof name !== 'string' || !EXPIRED_TOKEN_CODES.has(name)) throw error;
          const key = signedWith.get(context);
          if (key !== undefined) credentials.expired?.(key);
          return next(args);
        }
      },
  };
}

export const CAPTURE_STEP = { step: 'deserialize', name: 'lpcSignedAccessKey', priority: 'low' } as const;
export const RETRY_STEP = { step: 'initialize', name: 'lpcExpiredTokenRetry', priority: 'low' } as const;

export interface ClientsConfig {
  /** Custom endpoint for every service, e.g. the emulator at `http://127.0.0.1:4566`. */
  endpoint?: string;
  /** Explicit credentials (tests, assumed roles); normally absent so the default provider chain is used. */
  credentials?: StaticCredentials | CredentialsFunction;
  /** Until the response headers of one attempt (default DEFAULT_DEADLINES.responseMs). */
  requestTimeoutMs?: number;
  /** TCP (and TLS) connect of one attempt (default DEFAULT_DEADLINES.connectMs). */
  connectionTimeoutMs?: number;
  /** The other deadlines of one attempt; each one, when exceeded, fails the attempt as a retryable TimeoutError. */
  deadlines?: Partial<Deadlines>;
  /** Largest answer read (default DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** Environment to inspect for credentials (default process.env); injectable for tests. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Every AWS attempt has four deadlines, each of which fails it (the rate limiter then retries it as transient):
 * connect; the response headers (node-http-handler's requestTimeout, which only warns unless
 * throwOnRequestTimeout is set); socket inactivity (a body that stops arriving); and the whole attempt, body
 * included (a body trickled byte by byte never goes idle, so only an abort ends it).
 */
export interface Deadlines {
  connectMs: number;
  responseMs: number;
  socketIdleMs: number;
  attemptMs: number;
}

export const DEFAULT_DEADLINES: Deadlines = {
  connectMs: 5_000,
  responseMs: 30_000,
  socketIdleMs: 30_000,
  attemptMs: 60_000,
};

/** Overrides every deadline at once (milliseconds per attempt), e.g. for a CI job that must fail fast. */
export const DEADLINE_ENV = 'LPC_AWS_ATTEMPT_TIMEOUT_MS';

/** The deadlines in force: explicit config first, then the environment's single override, then the defaults. */
export function resolveDeadlines(config: ClientsConfig): Deadlines {
  const env = config.env ?? process.env;
  const raw = env[DEADLINE_ENV];
  const fromEnv = raw === undefined || raw === '' ? undefined : Number(raw);
  const base: Deadlines =
    fromEnv !== undefined && Number.isInteger(fromEnv) && fromEnv > 0
      ? {
          connectMs: Math.min(DEFAULT_DEADLINES.connectMs, fromEnv),
          responseMs: fromEnv,
          socketIdleMs: fromEnv,
          attemptMs: fromEnv,
        }
      : DEFAULT_DEADLINES;
  const out: Deadlines = { ...base, ...definedOnly(config.deadlines ?? {}) };
  if (config.connectionTimeoutMs !== undefined) out.connectMs = config.connectionTimeoutMs;
  if (config.requestTimeoutMs !== undefined) out.responseMs = config.requestTimeoutMs;
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`AWS deadline ${name} must be > 0, got ${value}`);
  }
  return out;
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type HandleArgs = Parameters<NodeHttpHandler['handle']>;

/** Thrown (as the abort's cause) when an attempt outlives its whole-attempt deadline. */
export class AttemptDeadlineError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`AWS call exceeded its ${ms} ms deadline`);
  }
}

/**
 * node-http-handler plus the whole-attempt deadline: an abort signal per attempt that fires after `attemptMs`. The
 * handler keeps listening to the signal until the request closes, so it also ends a response body that is still
 * being read.
 */
/** An answer larger than any AWS answer the adapters read (ListFunctions pages of 50 are well under 1 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The answer was larger than the bound: not retried (it would be as large again). */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  constructor(limit: number, seen: number | undefined) {
    super(`AWS answer ${seen === undefined ? 'exceeds' : `of ${seen} bytes exceeds`} the ${limit}-byte limit`);
  }
}

export class DeadlineHttpHandler extends NodeHttpHandler {
  readonly deadlines: Deadlines;
  readonly maxResponseBytes: number;

  constructor(deadlines: Deadlines, maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES) {
    super({
      connectionTimeout: deadlines.connectMs,
      requestTimeout: deadlines.responseMs,
      throwOnRequestTimeout: true,
      socketTimeout: deadlines.socketIdleMs,
    });
    this.deadlines = deadlines;
    this.maxResponseBytes = maxResponseBytes;
  }

  override handle(request: HandleArgs[0], options: HandleArgs[1] = {}): ReturnType<NodeHttpHandler['handle']> {
    const controller = new AbortController();
    const ms = this.deadlines.attemptMs;
    const timer = setTimeout(() => controller.abort(new AttemptDeadlineError(ms)), ms);
    timer.unref();
    const outer = options.abortSignal;
    if (outer !== undefined && 'addEventListener' in outer) {
      if (outer.aborted) controller.abort(outer.reason);
      else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
    }
    const max = this.maxResponseBytes;
    // The deadline must outlive the headers (the body is read after handle() resolves): past them it destroys the
    // body stream, which fails the read. Cleared once the body has closed, or when the attempt failed earlier.
    return super.handle(request, { ...options, abortSignal: controller.signal }).then(
      ({ response }) => {
        const body: unknown = response.body;
        if (!isReadable(body)) {
          clearTimeout(timer);
          return { response };
        }
        const declared = Number(response.headers['content-length'] ?? response.headers['Content-Length']);
        if (Number.isFinite(declared) && declared > max) {
          clearTimeout(timer);
          body.destroy();
          throw new ResponseTooLargeError(max, declared);
        }
        const onAbort = (): void => {
          body.destroy(controller.signal.reason instanceof Error ? controller.signal.reason : undefined);
        };
        controller.signal.addEventListener('abort', onAbort, { once: true });
        if (Number.isFinite(declared)) {
          // Node's HTTP parser delivers exactly Content-Length bytes of body, never more: a declared length within
          // the bound bounds the read, so the body is handed on as it is. A counting stream per answer cost as
          // much CPU as a third of the SDK's own work per call (every AWS JSON answer declares its length).
          body.once('close', () => {
            clearTimeout(timer);
            controller.signal.removeEventListener('abort', onAbort);
          });
          return { response };
        }
        // No length (chunked): counted as the SDK reads it, so such an answer is bounded too.
        let seen = 0;
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            seen += chunk.length;
            if (seen > max) done(new ResponseTooLargeError(max, undefined));
            else done(null, chunk);
          },
        });
        pipeline(body, counted, () => clearTimeout(timer));
        counted.once('close', () => {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', onAbort);
        });
        response.body = counted;
        return { response };
      },
      (error: unknown) => {
        clearTimeout(timer);
        // The handler reports its own abort as a bare "Request aborted" (whose causes lead back to the deadline):
        // say which deadline ended the attempt.
        const reason: unknown = controller.signal.reason;
        if (reason instanceof AttemptDeadlineError && outer?.aborted !== true) throw reason;
        throw error;
      },
    );
  }
}

function isReadable(value: unknown): value is Readable {
  return value instanceof Readable;
}

export interface RegionClients {
  region: string;
  lambda: LambdaClient;
  autoscaling: ApplicationAutoScalingClient;
  tagging: ResourceGroupsTaggingAPIClient;
  sts: STSClient;
  /** Log groups of functions whose logRetentionDays is governed. */
  logs: CloudWatchLogsClient;
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
    requestHandler: new DeadlineHttpHandler(resolveDeadlines(config), config.maxResponseBytes),
  };
}

export function createRegionClients(region: string, config: ClientsConfig = {}): RegionClients {
  const sdk = sdkClientConfig(region, config);
  const clients: RegionClients = {
    region,
    lambda: new LambdaClient(sdk),
    autoscaling: new ApplicationAutoScalingClient(sdk),
    tagging: new ResourceGroupsTaggingAPIClient(sdk),
    sts: new STSClient(sdk),
    logs: new CloudWatchLogsClient(sdk),
  };
  const credentials = config.credentials;
  if (typeof credentials === 'function') {
    // One call per client: each client's middleware stack is typed by its own inputs and outputs.
    const mw = expiredTokenMiddleware(credentials);
    clients.lambda.middlewareStack.add(mw.capture, CAPTURE_STEP);
    clients.lambda.middlewareStack.add(mw.retry, RETRY_STEP);
    clients.autoscaling.middlewareStack.add(mw.capture, CAPTURE_STEP);
    clients.autoscaling.middlewareStack.add(mw.retry, RETRY_STEP);
    clients.tagging.middlewareStack.add(mw.capture, CAPTURE_STEP);
    clients.tagging.middlewareStack.add(mw.retry, RETRY_STEP);
    clients.sts.middlewareStack.add(mw.capture, CAPTURE_STEP);
    clients.sts.middlewareStack.add(mw.retry, RETRY_STEP);
    clients.logs.middlewareStack.add(mw.capture, CAPTURE_STEP);
    clients.logs.middlewareStack.add(mw.retry, RETRY_STEP);
  }
  return clients;
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
      c.logs.destroy();
    }
    this.byRegion.clear();
  }
}
