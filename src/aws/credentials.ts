/**
 * Credentials per AWS account: STS AssumeRole (with ExternalId and a session name) from the controller's own
 * identity, one cache per account, refreshed before expiry. STS throttling and transient failures are retried with
 * backoff; AccessDenied is final for that account only (it is marked, the others go on). Nothing returned by the
 * failure paths, logged or counted carries a secret: errors name the account and the role, never a key.
 *
 * The provider handed to the SDK is marked memoized, so the SDK asks it on every request and this cache, on the
 * injected Clock, alone decides when to refresh; with credentials still valid a failed refresh keeps them in use
 * (no write fails because STS hiccuped minutes before expiry).
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Clock } from '../shared/clock.ts';
import {
  AwsAccessDeniedError,
  type AwsError,
  AwsRetryableError,
  AwsThrottledError,
  classifyAwsError,
} from './errors.ts';

export const DEFAULT_SESSION_NAME = 'lambda-policy-controller';

export interface RoleTarget {
  /** AwsAccount name (what status and logs say). */
  account: string;
  accountId: string;
  roleArn: string;
  externalId?: string | undefined;
  sessionName?: string | undefined;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * The function the SDK calls for credentials; `memoized` keeps the SDK from caching on its own wall clock;
 * `expired` is how a client reports that AWS refused them as expired (src/aws/clients.ts retries the call once).
 */
export type CredentialProvider = (() => Promise<TemporaryCredentials>) & {
  memoized: true;
  expired: (accessKeyId: string) => void;
};

/** AssumeRole failed for one account (the cause is the classified AWS error; no credential is in either). */
export class AssumeRoleFailedError extends Error {
  override readonly name = 'AssumeRoleFailedError';
  readonly account: string;
  readonly roleArn: string;
  /** AccessDenied (trust policy, ExternalId, missing role): retrying does not help until the grant changes. */
  readonly denied: boolean;
  readonly awsCode: string | undefined;

  constructor(target: RoleTarget, cause: AwsError) {
    super(`account ${target.account}: AssumeRole ${target.roleArn} failed: ${cause.awsCode ?? cause.code}`, { cause });
    this.account = target.account;
    this.roleArn = target.roleArn;
    this.denied = cause instanceof AwsAccessDeniedError;
    this.awsCode = cause.awsCode;
  }
}

export interface AssumeEvent {
  account: string;
  attempt: number;
  outcome: 'ok' | 'throttled' | 'retryable' | 'denied' | 'failed';
}

export interface CredentialCacheOptions {
  /** STS client signed with the controller's own identity (the base of every role assumption). */
  sts: STSClient;
  clock: Clock;
  /** Refresh this long before Expiration (default 300 s, as the SDK's own providers do). */
  refreshBeforeMs?: number;
  /** Session length asked for (default 3600 s: role chaining caps a session at one hour anyway). */
  durationSeconds?: number;
  /** Attempts per refresh for throttling and transient errors (default 5). */
  maxAttempts?: number;
  /** First backoff delay; doubled per attempt, full jitter (default 200 ms). */
  baseDelayMs?: number;
  random?: () => number;
  onAssume?: (event: AssumeEvent) => void;
  /** AWS refused an account's cached credentials as expired (they were dropped; the call is retried). */
  onExpired?: (event: { account: string }) => void;
}

interface Entry {
  credentials?: TemporaryCredentials;
  refreshing?: Promise<TemporaryCredentials> | undefined;
  failure?: AssumeRoleFailedError | undefined;
}

export class CredentialCache {
  readonly #options: CredentialCacheOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: CredentialCacheOptions) {
    this.#options = options;
  }

  /** The SDK credential provider for one account's clients. */
  provider(target: RoleTarget): CredentialProvider {
    const provider = () => this.get(target);
    return Object.assign(provider, {
      memoized: true as const,
      expired: (accessKeyId: string) => this.expired(target.account, accessKeyId),
    });
  }

  /**
   * AWS answered ExpiredToken for these credentials before their Expiration (revoked sessions, a clock ahead of
   * ours): drop them so the next ask assumes the role again. Only when they are still the cached ones — the calls
   * that met the same expiry in parallel then cause one AssumeRole, not one each; a refresh in flight is kept.
   */
  expired(account: string, accessKeyId: string): void {
    const entry = this.#entries.get(account);
    if (entry?.credentials?.accessKeyId !== accessKeyId) return;
    delete entry.credentials;
    this.#options.onExpired?.({ account });
  }

  /** The account's last failure, if its latest refresh failed (AccessDenied marks it until a refresh succeeds). */
  failure(account: string): AssumeRoleFailedError | undefined {
    return this.#entries.get(account)?.failure;
  }

  /** Forget an account's credentials (its AwsAccount changed, or AWS said the token expired). */
  invalidate(account: string): void {
    this.#entries.delete(account);
  }

  async get(target: RoleTarget): Promise<TemporaryCredentials> {
    const entry = this.#entries.get(target.account) ?? {};
    this.#entries.set(target.account, entry);
    const now = this.#options.clock.now();
    const current = entry.credentials;
    const refreshAt = current ? current.expiration.getTime() - (this.#options.refreshBeforeMs ?? 300_000) : 0;
    if (current && now < refreshAt) return current;
    entry.refreshing ??= this.#refresh(target, entry).finally(() => {
      entry.refreshing = undefined;
    });
    try {
      return await entry.refreshing;
    } catch (error) {
      // Still valid: keep using them; the next request tries the refresh again.
      if (current && this.#options.clock.now() < current.expiration.getTime()) return current;
      throw error;
    }
  }

  async #refresh(target: RoleTarget, entry: Entry): Promise<TemporaryCredentials> {
    const maxAttempts = this.#options.maxAttempts ?? 5;
    const base = this.#options.baseDelayMs ?? 200;
    const random = this.#options.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.#options.sts.send(
          new AssumeRoleCommand({
            RoleArn: target.roleArn,
            RoleSessionName: target.sessionName ?? DEFAULT_SESSION_NAME,
            DurationSeconds: this.#options.durationSeconds ?? 3600,
            ...(target.externalId !== undefined ? { ExternalId: target.externalId } : {}),
          }),
        );
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
          throw new AwsRetryableError('AssumeRole answered without complete credentials', undefined, {
            api: 'AssumeRole',
          });
        }
        const credentials: TemporaryCredentials = {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
          expiration: c.Expiration,
        };
        entry.credentials = credentials;
        entry.failure = undefined;
        this.#options.onAssume?.({ account: target.account, attempt, outcome: 'ok' });
        return credentials;
      } catch (raw) {
        const error = classifyAwsError(raw, 'AssumeRole');
        const transient = error instanceof AwsThrottledError || error instanceof AwsRetryableError;
        this.#options.onAssume?.({
          account: target.account,
          attempt,
          outcome:
            error instanceof AwsThrottledError
              ? 'throttled'
              : error instanceof AwsRetryableError
                ? 'retryable'
                : error instanceof AwsAccessDeniedError
                  ? 'denied'
                  : 'failed',
        });
        if (!transient || attempt >= maxAttempts) {
          const failure = new AssumeRoleFailedError(target, error);
          entry.failure = failure;
          throw failure;
        }
        const retryAfter = error instanceof AwsThrottledError ? (error.retryAfterMs ?? 0) : 0;
        await this.#options.clock.sleep(Math.max(retryAfter, random() * base * 2 ** (attempt - 1)));
      }
    }
  }
}
