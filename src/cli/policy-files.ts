/**
 * Policies as `plan` and `apply` find them in a policy repository: files and directories (`-R` descends),
 * `.yaml`/`.yml`/`.json`, and `-` for standard input (`kustomize build | plan -f -`). Every document is a Kubernetes
 * manifest; LambdaPolicies are validated, other kinds (a Namespace, a ConfigMap, a Kustomization beside the
 * policies) are counted and left alone, so a GitOps folder is read as it is.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AwsAccount } from '../api/account-schema.ts';
import { parsePolicies, type SkippedDocument } from '../api/parse.ts';
import { readPolicyFile, readPolicyStream } from '../api/policy-files.ts';
import type { LambdaPolicy } from '../api/schema.ts';
import type { NamespaceLabels } from '../api/tenancy-documents.ts';
import { DEFAULT_NAMESPACE } from '../api/validate.ts';

/** The name `-` stands for in messages. */
export const STDIN_NAME = '<stdin>';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** kustomize's own file: its documents are build instructions, not manifests (and often carry no kind). */
const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

export interface ReadPoliciesOptions {
  /** Descend into sub-directories (like `kubectl apply -R`). */
  recursive?: boolean;
  /** What `-` reads; process.stdin by default. */
  stdin?: Readable;
}

export interface PolicyRead {
  /** Valid policies, sorted by namespace/name, each once. */
  policies: LambdaPolicy[];
  /** One line each: file, document, policy, field, line. Non-empty means: do not plan. */
  errors: string[];
  /** Documents that are not LambdaPolicies, in reading order. */
  skipped: SkippedDocument[];
  /** How many files (and stdin) were read. */
  sources: number;
  /** AwsAccount grants and Namespaces (their labels) beside the policies; absent when there were none. */
  tenancy?: { accounts: AwsAccount[]; namespaces: NamespaceLabels[] };
}

/**
 * The text of one source: a file, or standard input for `-`. Every byte the CLI reads from a policy repository
 * comes through here (so a size limit has one place to go).
 */
export async function readSourceText(path: string, stdin: Readable): Promise<string> {
  // The same size, document and regular-file limits for files and stdin, checked before anything is parsed.
  return path === '-' ? readPolicyStream('-', stdin) : readPolicyFile(path);
}

/** The files `paths` stand for, in a stable order (each directory's entries by name), each once; `-` kept. */
export async function manifestFiles(
  paths: readonly string[],
  recursive: boolean,
): Promise<{ files: string[]; kustomizations: string[]; errors: string[] }> {
  const files: string[] = [];
  const kustomizations: string[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
  };
  const visit = async (path: string, top: boolean): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      errors.push(`${path}: ${code === 'ENOENT' ? 'no such file or directory' : String(error)}`);
      return;
    }
    if (!info.isDirectory()) {
      if (KUSTOMIZATION_FILES.has(basename(path))) kustomizations.push(path);
      else add(path);
      return;
    }
    if (!top && !recursive) return;
    const entries = (await readdir(path)).filter((entry) => !entry.startsWith('.')).sort();
    for (const entry of entries) {
      const child = join(path, entry);
      const childInfo = await stat(child).catch(() => undefined);
      if (childInfo?.isDirectory()) await visit(child, false);
      else if (KUSTOMIZATION_FILES.has(entry)) kustomizations.push(child);
      else if (MANIFEST_EXTENSIONS.has(extname(entry).toLowerCase())) add(child);
    }
  };
  for (const path of paths) {
    if (path === '-') add('-');
    else await visit(path, true);
  }
  return { files, kustomizations, errors };
}

/** Reads every policy the paths hold. Never throws for bad input: problems land in `errors`. */
export async function readPolicies(paths: readonly string[], options: ReadPoliciesOptions = {}): Promise<PolicyRead> {
  const stdin = options.stdin ?? process.stdin;
  const { files, kustomizations, errors } = await manifestFiles(paths, options.recursive ?? false);
  const skipped: SkippedDocument[] = kustomizations.map((source) => ({
    source,
    docIndex: 0,
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
  }));
  const firstSeen = new Map<string, string>();
  const policies: LambdaPolicy[] = [];
  const accounts: AwsAccount[] = [];
  const namespaces: NamespaceLabels[] = [];
  for (const file of files) {
    const name = file === '-' ? STDIN_NAME : file;
    let text: string;
    try {
      text = await readSourceText(file, stdin);
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const parsed = parsePolicies(text, name, { ignoreOtherKinds: true });
    errors.push(...parsed.errors.map((e) => e.message));
    skipped.push(...(parsed.skipped ?? []));
    accounts.push(...parsed.accounts);
    namespaces.push(...parsed.namespaces);
    for (const { policy, docIndex } of parsed.policies) {
      const key = `${policy.metadata.namespace ?? DEFAULT_NAMESPACE}/${policy.metadata.name}`;
      const where = `${name}#${docIndex}`;
      const first = firstSeen.get(key);
      if (first !== undefined) {
        errors.push(`${where} ${key}: declared twice (first in ${first})`);
        continue;
      }
      firstSeen.set(key, where);
      policies.push(policy);
    }
  }
  if (files.length === 0 && kustomizations.length === 0 && errors.length === 0)
    errors.push(`no .yaml/.yml/.json files in ${paths.join(', ')}`);
  policies.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  const tenancy = accounts.length > 0 || namespaces.length > 0 ? { tenancy: { accounts, namespaces } } : {};
  return { policies, errors, skipped, sources: files.length, ...tenancy };
}

function keyOf(policy: LambdaPolicy): string {
  return `${policy.metadata.namespace ?? DEFAULT_NAMESPACE}/${policy.metadata.name}`;
}

/** Code-unit order, not the locale's: the same on every machine. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Skipped documents counted by kind, kinds in name order (the same whatever order the stream had). */
export function skippedByKind(skipped: readonly SkippedDocument[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const doc of [...skipped].sort((a, b) => compareKeys(a.kind, b.kind)))
    counts[doc.kind] = (counts[doc.kind] ?? 0) + 1;
  return counts;
}

/** What a person should know about skipped documents (e.g. AwsAccount not read yet), each note once. */
export function skippedNotes(skipped: readonly SkippedDocument[]): string[] {
  return [...new Set(skipped.flatMap((doc) => (doc.note === undefined ? [] : [doc.note])))];
}
