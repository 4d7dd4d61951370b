/**
 * Where the pinned test binaries live: the same cache path logic as hack/lib/common.sh, computed from
 * hack/versions.env, so the harness needs no shell to find them.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestInfraError, TestInfraMissingError } from './errors.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const VERSIONS_FILE = join(REPO_ROOT, 'hack', 'versions.env');
export const ENSURE_SCRIPT = join(REPO_ROOT, 'hack', 'ensure-test-infra.sh');

export const TEST_INFRA_TOOLS = ['kube-apiserver', 'kubectl', 'etcd', 'helm', 'moto_server'] as const;
export type TestInfraTool = (typeof TEST_INFRA_TOOLS)[number];

export interface TestInfraVersions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly helm: string;
  readonly moto: string;
  readonly recipeRevision: string;
}

/** Parses KEY=VALUE lines the way hack/lib/common.sh does (comments after #, blank lines ignored). */
export function parseVersionsEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new TestInfraError('TEST_INFRA_MISSING', `bad line in ${VERSIONS_FILE}: ${line}`);
    values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return values;
}

export function testInfraVersions(versionsFile: string = VERSIONS_FILE): TestInfraVersions {
  const values = parseVersionsEnv(readFileSync(versionsFile, 'utf8'));
  const need = (key: string): string => {
    const value = values[key];
    if (value === undefined || value === '') {
      throw new TestInfraError('TEST_INFRA_MISSING', `${versionsFile} does not set ${key}`);
    }
    return value;
  };
  return {
    kubernetes: need('KUBERNETES_VERSION'),
    etcd: need('ETCD_VERSION'),
    helm: need('HELM_VERSION'),
    moto: need('MOTO_VERSION'),
    recipeRevision: need('RECIPE_REVISION'),
  };
}

export function testInfraCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LPC_CACHE;
  if (override !== undefined && override !== '') return override;
  return join(env.HOME || homedir(), '.cache', 'lambda-policy-controller');
}

/** Same string as `versions_key` in hack/lib/common.sh. */
export function testInfraVersionsKey(versions: TestInfraVersions): string {
  return `k8s-${versions.kubernetes}_etcd-${versions.etcd}_helm-${versions.helm}_moto-${versions.moto}_r${versions.recipeRevision}`;
}

/**
 * The folder holding kube-apiserver, kubectl, etcd, helm and moto_server for the pinned versions.
 * Throws TestInfraMissingError (telling to run hack/ensure-test-infra.sh) when any of them is missing.
 */
export function testInfraBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const binDir = join(testInfraCacheRoot(env), testInfraVersionsKey(testInfraVersions()), 'bin');
  const missing = TEST_INFRA_TOOLS.filter((tool) => !isExecutable(join(binDir, tool)));
  if (missing.length > 0) throw new TestInfraMissingError(binDir, missing);
  return binDir;
}

export function testInfraBinary(tool: TestInfraTool, binDir: string = testInfraBinDir()): string {
  return join(binDir, tool);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
