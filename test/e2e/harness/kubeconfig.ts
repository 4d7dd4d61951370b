/** Writes and reads kubeconfig files for the test control plane (client certificate, bearer token, impersonation). */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { TestInfraError } from './errors.ts';

export type KubeconfigCredentials =
  | { readonly kind: 'clientCertificate'; readonly certPem: string; readonly keyPem: string }
  | { readonly kind: 'token'; readonly token: string }
  | {
      /** Authenticate with a client certificate (normally the admin's) and act as another identity. */
      readonly kind: 'impersonate';
      readonly certPem: string;
      readonly keyPem: string;
      readonly as: string;
      readonly asGroups?: readonly string[];
    };

export interface KubeconfigSpec {
  readonly server: string;
  readonly caPem: string;
  readonly credentials: KubeconfigCredentials;
  /** Context/cluster/user name inside the file. */
  readonly name?: string;
  /** Default namespace of the context. */
  readonly namespace?: string;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Everything is embedded (no file references), so the file keeps working when copied elsewhere. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const name = spec.name ?? 'lpc-e2e';
  const credentials = spec.credentials;
  let user: Record<string, unknown>;
  switch (credentials.kind) {
    case 'clientCertificate':
      user = {
        'client-certificate-data': base64(credentials.certPem),
        'client-key-data': base64(credentials.keyPem),
      };
      break;
    case 'token':
      user = { token: credentials.token };
      break;
    case 'impersonate':
      user = {
        'client-certificate-data': base64(credentials.certPem),
        'client-key-data': base64(credentials.keyPem),
        as: credentials.as,
        ...(credentials.asGroups && credentials.asGroups.length > 0 ? { 'as-groups': [...credentials.asGroups] } : {}),
      };
      break;
  }
  const context = { cluster: name, user: name, ...(spec.namespace ? { namespace: spec.namespace } : {}) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: spec.server, 'certificate-authority-data': base64(spec.caPem) } }],
    users: [{ name, user }],
    contexts: [{ name, context }],
    'current-context': name,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  writeFileSync(path, renderKubeconfig(spec), { mode: 0o600 });
  return path;
}

/** The admin kubeconfig written by startControlPlane, read back (e.g. in a vitest worker after globalSetup). */
export interface AdminKubeconfig {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export function readAdminKubeconfig(path: string): AdminKubeconfig {
  const document: unknown = parse(readFileSync(path, 'utf8'));
  const cluster = dig(document, ['clusters', 0, 'cluster']);
  const user = dig(document, ['users', 0, 'user']);
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || value === '') {
      throw new TestInfraError('TEST_INFRA_MISSING', `${path} has no ${field} (not a harness admin kubeconfig?)`);
    }
    return value;
  };
  const decode = (value: unknown, field: string): string => Buffer.from(text(value, field), 'base64').toString('utf8');
  return {
    server: text(field(cluster, 'server'), 'server'),
    caPem: decode(field(cluster, 'certificate-authority-data'), 'certificate-authority-data'),
    certPem: decode(field(user, 'client-certificate-data'), 'client-certificate-data'),
    keyPem: decode(field(user, 'client-key-data'), 'client-key-data'),
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function dig(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = field(current, key);
  }
  return current;
}
