/**
 * Which environment variables look like credentials: by name (`*_PASSWORD`, `*_SECRET`, `*_TOKEN`, ...) or by the
 * shape of the value (AWS access key ids, PEM private keys, well-known token prefixes, credentials in a URL,
 * long high-entropy strings). A variable that only says where a secret lives (a name ending in _ARN, _NAME, _PATH,
 * ...; a value that is an ARN, an SSM parameter path or a CloudFormation dynamic reference) is allowed.
 *
 * Only names and the kind of finding come out: no value, prefix, length or hash of a value ever leaves this module,
 * so nothing downstream (status, plan output, logs, Events, metrics) can leak one.
 */
import type { SecretFinding, SecretKind } from '../model.ts';

/** Name endings that say the variable holds a credential. */
const SECRET_NAME =
  /(^|_)(PASSWORD|PASSWD|PWD|PASS|SECRET|SECRET_KEY|SECRET_ACCESS_KEY|ACCESS_KEY|PRIVATE_KEY|API_KEY|APIKEY|TOKEN|AUTH_TOKEN|ACCESS_TOKEN|REFRESH_TOKEN|CLIENT_SECRET|CREDENTIALS?|SIGNING_KEY|ENCRYPTION_KEY|MASTER_KEY|CONNECTION_STRING|DSN)$/i;
/** Name endings that only point at a secret stored elsewhere. */
const LOCATION_NAME =
  /(_|^)(ARN|NAME|ID|PATH|PARAM|PARAMETER|PARAMETER_NAME|REF|KEY_ID|KMS_KEY_ID|URL_PARAM|FILE|SSM|LOCATION)$/i;

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:/;
/** An SSM parameter path (/a/b) or name reference (ssm:/..., {{resolve:...}}). */
const SSM_PATH = /^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+\/?$/;
const DYNAMIC_REFERENCE = /^\{\{resolve:(ssm|ssm-secure|secretsmanager):[^}]+\}\}$/;

const VALUE_SHAPES: readonly { kind: SecretKind; pattern: RegExp }[] = [
  { kind: 'aws-access-key', pattern: /(^|[^A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}([^A-Z0-9]|$)/ },
  { kind: 'private-key', pattern: /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/ },
  {
    kind: 'token',
    pattern:
      /(^|[^A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|rk_live_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_-]{35}|glpat-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/,
  },
  // scheme://user:password@host
  { kind: 'url-credentials', pattern: /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A random-looking token: 20+ characters without whitespace, letters and digits mixed, not a URL, path, ARN or
 * UUID, and more than 4.2 bits of entropy per character (above what hex ids and words reach, below random
 * base64). Catches generated keys whose variable name gives nothing away.
 */
function isHighEntropy(value: string): boolean {
  if (value.length < 20 || /\s/.test(value) || value.includes('://') || UUID.test(value)) return false;
  if (!/[A-Za-z]/.test(value) || !/[0-9]/.test(value)) return false;
  if (value.startsWith('/') || ARN.test(value)) return false;
  return entropy(value) > 4.2;
}

function pointsElsewhere(value: string): boolean {
  return ARN.test(value) || SSM_PATH.test(value) || DYNAMIC_REFERENCE.test(value) || value.startsWith('ssm:');
}

/** Why one variable looks like a credential, or undefined. */
export function classifyVariable(name: string, value: string): SecretKind | undefined {
  const trimmed = value.trim();
  if (trimmed === '' || pointsElsewhere(trimmed)) return undefined;
  for (const shape of VALUE_SHAPES) if (shape.pattern.test(trimmed)) return shape.kind;
  if (SECRET_NAME.test(name) && !LOCATION_NAME.test(name)) return 'name';
  if (isHighEntropy(trimmed)) return 'high-entropy';
  return undefined;
}

/** The variables that look like credentials, by name (sorted), with why; never their values. */
export function findSecretLikeVariables(variables: Readonly<Record<string, string>> | undefined): SecretFinding[] {
  if (variables === undefined) return [];
  const out: SecretFinding[] = [];
  for (const name of Object.keys(variables).sort()) {
    const kind = classifyVariable(name, variables[name] ?? '');
    if (kind !== undefined) out.push({ name, kind });
  }
  return out;
}

const KIND_TEXT: Record<SecretKind, string> = {
  name: 'its name says it holds a credential',
  'aws-access-key': 'its value is an AWS access key id',
  'private-key': 'its value is a private key',
  token: 'its value has the shape of an API token',
  'url-credentials': 'its value is a URL with a password',
  'high-entropy': 'its value looks like a generated key',
};

export function describeFinding(finding: SecretFinding): string {
  return `environment variable ${finding.name} looks like a credential (${KIND_TEXT[finding.kind]}): keep it in Secrets Manager or SSM Parameter Store and pass its ARN or name`;
}
