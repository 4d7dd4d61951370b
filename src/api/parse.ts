/**
 * Policy files as the CLI reads them: multi-document YAML (JSON is YAML too), each document one manifest. Every
 * document is validated on its own, so one bad policy names itself (`file#index name: path: message (line N)`)
 * without hiding the others; and the engine's view of a policy (`PolicyInput`) is derived here, once.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import type { PolicyInput } from '../engine/model.ts';
import type { AwsAccount } from './account-schema.ts';
import { parseGoDuration } from './duration.ts';
import { PolicyDocumentError, PolicyParseError, type ValidationIssue } from './errors.ts';
import { fieldLine } from './locate.ts';
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from './schema.ts';
import { type NamespaceLabels, readTenancyDocument } from './tenancy-documents.ts';
import { DEFAULT_NAMESPACE, validatePolicy } from './validate.ts';

/** A valid policy and where it came from. */
export interface ParsedPolicy {
  policy: LambdaPolicy;
  source: string;
  /** 0-based index of the document in its file. */
  docIndex: number;
}

/** A document that is not a LambdaPolicy and was left alone (only with `ignoreOtherKinds`). */
export interface SkippedDocument {
  source: string;
  docIndex: number;
  apiVersion: string;
  kind: string;
  /** Why it matters, for kinds of this project that are read elsewhere. */
  note?: string;
}

export interface ParseResult {
  policies: ParsedPolicy[];
  errors: PolicyDocumentError[];
  /** Present (possibly empty) only when other kinds are skipped. */
  skipped?: SkippedDocument[];
  /** AwsAccount grants and Namespaces (labels) found beside the policies. */
  accounts: AwsAccount[];
  namespaces: NamespaceLabels[];
}

export interface ParseOptions {
  /**
   * Skip documents of other API groups (a GitOps folder: a ConfigMap, a Namespace beside the policies) instead of
   * reporting them; they are listed in `skipped`. Off by default. Even when on, a document of this project's group
   * with an unknown kind or version is an error, and so is a document without apiVersion/kind: a misspelt kind
   * must not make a policy silently disappear.
   */
  ignoreOtherKinds?: boolean;
}

export const POLICY_GROUP = 'lambdapolicy.io';

/** Kinds of this project's group that `plan`/`apply` recognise but do not read (yet). */
const READ_ELSEWHERE: Record<string, string> = {
  AwsOrganization: 'AwsOrganization is not read by plan/apply yet',
};

type DocumentClass = 'policy' | { skip: { apiVersion: string; kind: string; note?: string } };

function classify(value: unknown, ignoreOtherKinds: boolean): DocumentClass {
  if (typeof value !== 'object' || value === null) return 'policy';
  const { apiVersion, kind } = value as Record<string, unknown>;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') return 'policy';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (group === POLICY_GROUP) {
    const note = READ_ELSEWHERE[kind];
    return note !== undefined && ignoreOtherKinds ? { skip: { apiVersion, kind, note } } : 'policy';
  }
  return ignoreOtherKinds ? { skip: { apiVersion, kind } } : 'policy';
}

/**
 * Parses and validates every document of a policy file. Empty documents (a trailing `---`) are skipped. Valid
 * policies come back with defaults applied; invalid documents come back as errors, never thrown.
 */
export function parsePolicies(text: string, sourceName: string, options: ParseOptions = {}): ParseResult {
  const result: ParseResult = { policies: [], errors: [], accounts: [], namespaces: [] };
  if (options.ignoreOtherKinds) result.skipped = [];
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
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
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      // An alias bomb (or any other failure to build the value) is this document's error, not the whole read's:
      // a file source keeps its last good set instead of failing (the demo used to crash here).
      result.errors.push(
        new PolicyDocumentError(
          {
            code: 'YamlSyntax',
            source: sourceName,
            docIndex,
            issues: [{ path: '', message: `invalid YAML: ${(cause as Error).message}`, source: 'schema' }],
          },
          { cause },
        ),
      );
      return;
    }
    if (value === null || value === undefined) return;
    // AwsAccount grants and Namespaces (their labels) are read, not skipped: the accounts path checks them with
    // the policies, as the cluster would.
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
          issues: tenancy.issues.map((issue): ValidationIssue => {
            const line = fieldLine(document.contents, lineCounter, issue.path);
            return line === undefined ? issue : { ...issue, line };
          }),
        }),
      );
    }
    if (tenancy) return;
    const kind = classify(value, options.ignoreOtherKinds ?? false);
    if (kind !== 'policy') {
      result.skipped?.push({ source: sourceName, docIndex, ...kind.skip });
      return;
    }

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
          issues: validation.issues.map((issue): ValidationIssue => {
            const line = fieldLine(document.contents, lineCounter, issue.path);
            return line === undefined ? issue : { ...issue, line };
          }),
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
    ...(spec.checks !== undefined ? { checks: spec.checks } : {}),
    ...(policy.metadata.generation === undefined ? {} : { generation: policy.metadata.generation }),
    ...approvalOf(policy.metadata.annotations?.[APPROVE_GENERATION_ANNOTATION]),
    ...(spec.rollout === undefined ? {} : { rollout: spec.rollout }),
    ...(spec.iacManaged === undefined ? {} : { iacManaged: spec.iacManaged }),
  };
}

/** The approve annotation read strictly: a positive integer, nothing else ("3", not "3.0", " 3" or "v3"). */
export function approvalOf(value: string | undefined): Pick<PolicyInput, 'approval'> {
  if (value === undefined) return {};
  const generation = /^[1-9][0-9]{0,14}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isSafeInteger(generation)) return { approval: { generation } };
  return {
    approval: {
      invalid: `annotation ${APPROVE_GENERATION_ANNOTATION} must be a generation number such as "3", not ${JSON.stringify(value.slice(0, 40))}`,
    },
  };
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
