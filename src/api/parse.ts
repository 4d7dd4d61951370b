/**
 * Policy files as the CLI reads them: multi-document YAML, each document one LambdaPolicy manifest. Every
 * document is validated on its own, so one bad policy names itself (`file#index name: path: message`) without
 * hiding the others; and the engine's view of a policy (`PolicyInput`) is derived here, once.
 */
import { parseAllDocuments } from 'yaml';
import type { PolicyInput } from '../engine/model.ts';
import type { AwsAccount } from './account-schema.ts';
import { parseGoDuration } from './duration.ts';
import { PolicyDocumentError, PolicyParseError } from './errors.ts';
import type { LambdaPolicy } from './schema.ts';
import { type NamespaceLabels, readTenancyDocument } from './tenancy-documents.ts';
import { DEFAULT_NAMESPACE, validatePolicy } from './validate.ts';

/** A valid policy and where it came from. */
export interface ParsedPolicy {
  policy: LambdaPolicy;
  source: string;
  /** 0-based index of the document in its file. */
  docIndex: number;
}

export interface ParseResult {
  policies: ParsedPolicy[];
  errors: PolicyDocumentError[];
  /** AwsAccount grants and Namespaces (labels) found beside the policies. */
  accounts: AwsAccount[];
  namespaces: NamespaceLabels[];
}

export interface ParseOptions {
  /**
   * Skip documents of another apiVersion/kind (a directory of mixed manifests) instead of reporting them. Off by
   * default: a misspelt kind should not make a policy silently disappear.
   */
  ignoreOtherKinds?: boolean;
}

/**
 * Parses and validates every document of a policy file. Empty documents (a trailing `---`) are skipped. Valid
 * policies come back with defaults applied; invalid documents come back as errors, never thrown.
 */
export function parsePolicies(text: string, sourceName: string, options: ParseOptions = {}): ParseResult {
  const result: ParseResult = { policies: [], errors: [], accounts: [], namespaces: [] };
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  // `parseAllDocuments` returns an EmptyStream (no documents) for empty input; iterate it the same way.
  const list = Array.isArray(documents) ? documents : [];
  list.forEach((document, docIndex) => {
    if (document.errors.length > 0) {
      const [first] = document.errors;
      result.errors.push(
        new PolicyDocumentError(
          {
            code: 'YamlSyntax',
            source: sourceName,
            docIndex,
            issues: document.errors.map((error) => ({ path: '', message: yamlMessage(error), source: 'schema' })),
          },
          { cause: first },
        ),
      );
      return;
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const tenancy = readTenancyDocument(value);
    if (tenancy?.kind === 'AwsAccount') result.accounts.push(tenancy.account);
    else if (tenancy?.kind === 'Namespace') result.namespaces.push(tenancy.namespace);
    else if (tenancy?.kind === 'invalid') {
      result.errors.push(
        new PolicyDocumentError({
          code: 'PolicyInvalid',
          source: sourceName,
          docIndex,
          policyName: tenancy.name,
          issues: tenancy.issues,
        }),
      );
    }
    if (tenancy) return;
    if (options.ignoreOtherKinds && !isLambdaPolicyDocument(value)) return;

    const validation = validatePolicy(value);
    if (validation.ok) {
      result.policies.push({ policy: validation.value, source: sourceName, docIndex });
    } else {
      result.errors.push(
        new PolicyDocumentError({
          code: 'PolicyInvalid',
          source: sourceName,
          docIndex,
          policyName: nameOf(value),
          issues: validation.issues,
        }),
      );
    }
  });
  return result;
}

/** Like `parsePolicies`, but throws one PolicyParseError listing every bad document. */
export function parsePoliciesOrThrow(text: string, sourceName: string, options: ParseOptions = {}): LambdaPolicy[] {
  const { policies, errors } = parsePolicies(text, sourceName, options);
  if (errors.length > 0) throw new PolicyParseError(errors);
  return policies.map((parsed) => parsed.policy);
}

/**
 * The engine's view of a validated policy: identified by `namespace/name`, defaults resolved (a policy that did
 * not pass through `validatePolicy` still gets the documented defaults), interval in seconds.
 */
export function toPolicyInput(policy: LambdaPolicy): PolicyInput {
  const namespace = policy.metadata.namespace ?? DEFAULT_NAMESPACE;
  const name = policy.metadata.name;
  const spec = policy.spec;
  return {
    id: `${namespace}/${name}`,
    namespace,
    name,
    mode: spec.mode ?? 'Enforce',
    priority: spec.priority ?? 0,
    suspend: spec.suspend ?? false,
    intervalSeconds: parseGoDuration(spec.interval ?? '5m'),
    selector: spec.selector,
    settings: spec.settings,
  };
}

function isLambdaPolicyDocument(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>).kind === 'LambdaPolicy' &&
    String((value as Record<string, unknown>).apiVersion).startsWith('lambdapolicy.io/')
  );
}

function nameOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const metadata = (value as Record<string, unknown>).metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const { name, namespace } = metadata as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') return undefined;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}/${name}` : name;
}

function yamlMessage(error: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }): string {
  const position = error.linePos?.[0];
  const where = position ? ` (line ${position.line}, column ${position.col})` : '';
  // yaml's pretty message repeats the position and appends a code frame; keep the sentence only.
  const sentence = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `invalid YAML${where}: ${sentence}`;
}
