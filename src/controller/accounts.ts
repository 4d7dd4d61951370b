/**
 * The controller's side of tenancy: where AwsAccounts and namespace labels come from (the Kubernetes watchers in
 * src/kube/accounts.ts, or nothing: the home account only), where AwsAccount statuses go, and the pure rule of an
 * AwsAccount's status (Ready when GetCallerIdentity answered its accountId; Stalled AccountMismatch /
 * AssumeRoleFailed when a person must fix the account or its role; NotReady while STS cannot be reached).
 */
import type { AwsAccount, AwsAccountStatus } from '../api/account-schema.ts';
import type { LabelSelector } from '../api/label-selector.ts';
import { AssumeRoleFailedError } from '../aws/credentials.ts';
import { AccountMismatchError } from '../reconcile/accounts.ts';
import { truncate } from '../shared/text.ts';
import { CONDITION_MESSAGE_MAX, type KstatusState, kstatusConditions, toKubeTime } from './conditions.ts';

export interface TenancySource {
  accounts(): readonly AwsAccount[];
  /** Labels of every namespace, by name. */
  namespaceLabels(): ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Told (coalesced) when an AwsAccount's labels/spec or a namespace's labels change. */
  onChange(listener: () => void): () => void;
}

export interface AccountStatusSink {
  /** Writes when it differs from what was written last; returns whether it wrote. */
  writeAccountStatus(account: AwsAccount, status: AwsAccountStatus): Promise<boolean>;
}

/** The outcome of the latest credential check of one account. */
export interface Verification {
  /** The AwsAccount's client fingerprint it was made for (a changed role is checked again). */
  fingerprint: string;
  at: Date;
  /** Last time GetCallerIdentity answered the account's id. */
  verifiedAt?: Date | undefined;
  state: KstatusState;
  /** Undefined when verified; else the message every fleet key of the account reports. */
  error?: string | undefined;
}

/** What a credential check's failure means for the account. */
export function verificationFailure(error: unknown): KstatusState {
  const message = truncate(error instanceof Error ? error.message : String(error), CONDITION_MESSAGE_MAX);
  if (error instanceof AccountMismatchError) return { kind: 'Stalled', reason: 'AccountMismatch', message };
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof AssumeRoleFailedError) {
      // AccessDenied (trust policy, ExternalId, missing role) waits for a person; throttling or an outage passes.
      return e.denied
        ? { kind: 'Stalled', reason: 'AssumeRoleFailed', message }
        : { kind: 'NotReady', reason: 'AwsUnavailable', message };
    }
    e = e.cause;
  }
  return { kind: 'NotReady', reason: 'AwsUnavailable', message };
}

export function verifiedState(account: AwsAccount): KstatusState {
  return {
    kind: 'Ready',
    reason: 'Verified',
    message: `credentials verified: GetCallerIdentity answered account ${account.spec.accountId}`,
  };
}

/** An AwsAccount's status (pure). */
export function composeAccountStatus(
  account: AwsAccount,
  verification: Verification | undefined,
  policies: number,
  now: Date,
): AwsAccountStatus {
  const previous = (account.status ?? {}) as AwsAccountStatus;
  const state: KstatusState = verification?.state ?? {
    kind: 'Reconciling',
    reason: 'Verifying',
    message: 'credentials not checked yet',
  };
  const status: AwsAccountStatus = {
    conditions: kstatusConditions(previous.conditions, state, account.metadata.generation, now).conditions,
    policies,
  };
  if (account.metadata.generation !== undefined) status.observedGeneration = account.metadata.generation;
  const verifiedAt = verification?.verifiedAt;
  if (verifiedAt) status.lastVerifiedTime = toKubeTime(verifiedAt);
  else if (previous.lastVerifiedTime) status.lastVerifiedTime = previous.lastVerifiedTime;
  return status;
}

/**
 * `--home-account-namespaces`: a label selector in kubectl's syntax (`team=payments,env in (prod,stage)`,
 * `!legacy`), or JSON (`{}`, `{"matchLabels":{...}}`, the chart's value), or `none` / `null` (no namespace: only
 * AwsAccounts are governed). Empty: every namespace.
 */
export function parseHomeNamespaces(text: string | undefined): LabelSelector | null {
  const value = (text ?? '').trim();
  if (value === '') return {};
  if (value === 'none' || value === 'null') return null;
  if (value.startsWith('{')) {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('--home-account-namespaces: a JSON label selector must be an object');
    }
    return parsed as LabelSelector;
  }
  return parseLabelSelector(value);
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** kubectl's label selector syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-joined. */
export function parseLabelSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') continue;
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set) {
      const values = (set[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      matchExpressions.push({ key: set[1] ?? '', operator: set[2] === 'in' ? 'In' : 'NotIn', values });
      continue;
    }
    const ne = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(part);
    if (ne) {
      matchExpressions.push({ key: ne[1] ?? '', operator: 'NotIn', values: [ne[2] ?? ''] });
      continue;
    }
    const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(part);
    if (eq) {
      matchLabels[eq[1] ?? ''] = eq[2] ?? '';
      continue;
    }
    const not = /^!\s*([^\s!=]+)$/.exec(part);
    if (not) {
      matchExpressions.push({ key: not[1] ?? '', operator: 'DoesNotExist' });
      continue;
    }
    if (/^[^\s!=(),]+$/.test(part)) {
      matchExpressions.push({ key: part, operator: 'Exists' });
      continue;
    }
    throw new Error(`not a label selector: ${JSON.stringify(part)}`);
  }
  for (const key of [...Object.keys(matchLabels), ...matchExpressions.map((e) => e.key)]) {
    if (!LABEL_KEY.test(key)) throw new Error(`not a label key: ${JSON.stringify(key)}`);
  }
  const out: LabelSelector = {};
  if (Object.keys(matchLabels).length > 0) out.matchLabels = matchLabels;
  if (matchExpressions.length > 0) out.matchExpressions = matchExpressions;
  return out;
}
