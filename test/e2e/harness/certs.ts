/**
 * The PKI a test control plane needs, made the way envtest makes it: a throwaway CA, a serving certificate for
 * localhost/127.0.0.1, client certificates signed by the CA, and a service-account signing key pair.
 * X.509 certificates come from the `openssl` CLI (node:crypto can make keys but not certificates).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolMissingError } from './errors.ts';
import { runCommand } from './exec.ts';

export interface CertificateFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

export interface ClientIdentity {
  /** Becomes the user name (certificate CN). */
  readonly user: string;
  /** Become the groups (certificate O fields), e.g. ['system:masters']. */
  readonly groups?: readonly string[];
}

export interface ControlPlanePki {
  readonly ca: CertificateFiles;
  readonly serving: CertificateFiles;
  readonly admin: CertificateFiles;
  readonly serviceAccountPublicKeyPath: string;
  readonly serviceAccountPrivateKeyPath: string;
}

const VALIDITY_DAYS = '7';

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await runCommand('openssl', args);
  } catch (error) {
    if (!(error instanceof ToolMissingError)) throw error;
    throw new ToolMissingError(
      'openssl',
      'the openssl binary makes the test certificates; install it (Debian: apt-get install openssl)',
      error,
    );
  }
}

/** OpenSSL config with only what we ask for, so no distro default extension collides with ours. */
function writeConfig(path: string, subject: ClientIdentity | { user: string }, extensions: string[]): void {
  const groups = 'groups' in subject && subject.groups ? subject.groups : [];
  const dn = [
    ...groups.map((group, index) => `${index}.O = ${escapeDnValue(group)}`),
    `CN = ${escapeDnValue(subject.user)}`,
  ];
  writeFileSync(
    path,
    ['[req]', 'prompt = no', 'distinguished_name = dn', 'utf8 = yes', '[dn]', ...dn, '[ext]', ...extensions, ''].join(
      '\n',
    ),
  );
}

function escapeDnValue(value: string): string {
  if (!/^[A-Za-z0-9:._@ -]+$/.test(value)) {
    throw new Error(`unsupported character in certificate subject value: ${value}`);
  }
  return value;
}

function randomSerial(): string {
  return `0x${randomBytes(16).toString('hex').replace(/^./, '1')}`;
}

async function createCa(dir: string): Promise<CertificateFiles> {
  const config = join(dir, 'ca.cnf');
  const files = { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') };
  writeConfig(config, { user: 'lpc-e2e-ca' }, [
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
    'subjectKeyIdentifier = hash',
  ]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    files.keyPath,
    '-out',
    files.certPath,
    '-days',
    VALIDITY_DAYS,
    '-set_serial',
    randomSerial(),
    '-config',
    config,
    '-extensions',
    'ext',
  ]);
  return files;
}

/** A certificate for `subject` signed by `ca`; `extensions` are OpenSSL v3 extension lines. */
async function signLeaf(
  dir: string,
  baseName: string,
  ca: CertificateFiles,
  subject: ClientIdentity,
  extensions: string[],
): Promise<CertificateFiles> {
  const config = join(dir, `${baseName}.cnf`);
  const csr = join(dir, `${baseName}.csr`);
  const files = { certPath: join(dir, `${baseName}.crt`), keyPath: join(dir, `${baseName}.key`) };
  writeConfig(config, subject, [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'authorityKeyIdentifier = keyid',
    ...extensions,
  ]);
  await openssl([
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    files.keyPath,
    '-out',
    csr,
    '-config',
    config,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-set_serial',
    randomSerial(),
    '-days',
    VALIDITY_DAYS,
    '-out',
    files.certPath,
    '-extfile',
    config,
    '-extensions',
    'ext',
  ]);
  return files;
}

/** A client certificate the API server maps to `identity.user` in `identity.groups`. */
export function createClientCertificate(
  dir: string,
  baseName: string,
  ca: CertificateFiles,
  identity: ClientIdentity,
): Promise<CertificateFiles> {
  return signLeaf(dir, baseName, ca, identity, ['extendedKeyUsage = clientAuth']);
}

/** `servingIps`: more IP addresses the API server's certificate is valid for (a node's view of it, a Service IP). */
export async function createControlPlanePki(dir: string, servingIps: readonly string[] = []): Promise<ControlPlanePki> {
  const ca = await createCa(dir);
  const serving = await signLeaf(dir, 'apiserver', ca, { user: 'kube-apiserver' }, [
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${['DNS:localhost', 'IP:127.0.0.1', ...servingIps.map((ip) => `IP:${ip}`)].join(', ')}`,
  ]);
  const admin = await createClientCertificate(dir, 'admin', ca, { user: 'admin', groups: ['system:masters'] });
  // The API server signs ServiceAccount tokens with this key and verifies them with its public half.
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountPrivateKeyPath = join(dir, 'sa.key');
  const serviceAccountPublicKeyPath = join(dir, 'sa.pub');
  writeFileSync(serviceAccountPrivateKeyPath, privateKey, { mode: 0o600 });
  writeFileSync(serviceAccountPublicKeyPath, publicKey);
  return { ca, serving, admin, serviceAccountPublicKeyPath, serviceAccountPrivateKeyPath };
}
