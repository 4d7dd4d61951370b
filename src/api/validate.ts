/**
 * The CLI's validator: ajv compiled from the TypeBox schemas (strict, every error, defaults applied), then the
 * cross-field rules of rules.ts. Errors come back as `{ path, message }` in the API server's field-path notation,
 * worded for a person rather than in ajv's schema vocabulary.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ValidationIssue } from './errors.ts';
import { checkCrossFieldRules } from './rules.ts';
import {
  type LambdaPolicy,
  LambdaPolicySchema,
  type LambdaPolicySpec,
  LambdaPolicySpecSchema,
  type LambdaPolicyStatus,
  LambdaPolicyStatusSchema,
} from './schema.ts';

export const DEFAULT_NAMESPACE = 'default';

/** Keywords the schemas carry for the CRD (and for our messages); ajv treats them as annotations. */
const ANNOTATION_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-error-message',
];

export type ValidationResult<T> = { ok: true; value: T; issues: [] } | { ok: false; issues: ValidationIssue[] };

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the whole module object.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

export function createAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, allowUnionTypes: true, verbose: true });
  ajv.addVocabulary(ANNOTATION_KEYWORDS);
  addFormats(ajv);
  return ajv;
}

let compiled: { policy: ValidateFunction; spec: ValidateFunction; status: ValidateFunction } | undefined;

/** Compiled once, on first use: compiling costs milliseconds that a CLI reading one file should not pay twice. */
function validators(): NonNullable<typeof compiled> {
  if (compiled === undefined) {
    const ajv = createAjv();
    compiled = {
      policy: ajv.compile(LambdaPolicySchema),
      spec: ajv.compile(LambdaPolicySpecSchema),
      status: ajv.compile(LambdaPolicyStatusSchema),
    };
  }
  return compiled;
}

/**
 * Validates a whole manifest (apiVersion, kind, metadata, spec). The input is not modified: the value returned on
 * success is a copy with every schema default applied (mode Enforce, priority 0, suspend false, interval 5m,
 * window timezone UTC) and `metadata.namespace` defaulted to `default`.
 */
export function validatePolicy(input: unknown): ValidationResult<LambdaPolicy> {
  const value = structuredClone(input);
  const validate = validators().policy;
  validate(value);
  const issues = toIssues(validate.errors, value);
  if (isRecord(value) && 'spec' in value) issues.push(...checkCrossFieldRules(value.spec, 'spec'));
  if (issues.length > 0) return { ok: false, issues };
  const policy = value as LambdaPolicy;
  policy.metadata.namespace ??= DEFAULT_NAMESPACE;
  return { ok: true, value: policy, issues: [] };
}

/** Validates a spec alone (paths start with `basePath`); the returned copy has defaults applied. */
export function validatePolicySpec(input: unknown, basePath = 'spec'): ValidationResult<LambdaPolicySpec> {
  const value = structuredClone(input);
  const validate = validators().spec;
  validate(value);
  const issues = toIssues(validate.errors, value, basePath);
  issues.push(...checkCrossFieldRules(value, basePath));
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: value as LambdaPolicySpec, issues: [] };
}

/** Validates a status object against the CRD's status schema (for the controller's own tests and self-checks). */
export function validatePolicyStatus(input: unknown): ValidationResult<LambdaPolicyStatus> {
  const validate = validators().status;
  validate(input);
  const issues = toIssues(validate.errors, input, 'status');
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: input as LambdaPolicyStatus, issues: [] };
}

// ---------------------------------------------------------------------------------------------------------------
// ajv errors -> issues

export function toIssues(
  errors: readonly ErrorObject[] | null | undefined,
  root: unknown,
  basePath?: string,
): ValidationIssue[] {
  if (!errors) return [];
  // A failed anyOf also reports why each branch failed; those details say nothing a person needs.
  const failedUnions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath);
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (failedUnions.some((union) => error.schemaPath.startsWith(`${union}/`))) continue;
    const issue = toIssue(error, root, basePath);
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function toIssue(error: ErrorObject, root: unknown, basePath: string | undefined): ValidationIssue {
  const segments = decodePointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const custom = (error.parentSchema as Record<string, unknown> | undefined)?.['x-error-message'];
  let message: string;
  switch (error.keyword) {
    case 'required':
      segments.push(String(params.missingProperty));
      message = 'Required value';
      break;
    case 'additionalProperties':
      segments.push(String(params.additionalProperty));
      message = `unknown field "${String(params.additionalProperty)}"`;
      break;
    case 'type':
      message = `must be of type ${String(params.type).replaceAll(',', ' or ')}`;
      break;
    case 'enum':
      message = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(params.allowedValue)}`;
      break;
    case 'minimum':
    case 'maximum':
      message = `must be ${String(params.comparison)} ${String(params.limit)}`;
      break;
    case 'minLength':
      message = `must be at least ${String(params.limit)} character${params.limit === 1 ? '' : 's'} long`;
      break;
    case 'maxLength':
      message = `must be at most ${String(params.limit)} characters long`;
      break;
    case 'minItems':
      message = `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
      break;
    case 'maxItems':
      message = `must have at most ${String(params.limit)} items`;
      break;
    case 'maxProperties':
      message = `must have at most ${String(params.limit)} entries`;
      break;
    case 'pattern':
    case 'anyOf':
      message = typeof custom === 'string' ? custom : (error.message ?? 'is invalid');
      break;
    case 'format':
      message = `must be a valid ${String(params.format)}`;
      break;
    default:
      message = error.message ?? 'is invalid';
  }
  const path = renderPath(segments, root);
  return { path: basePath ? joinPath(basePath, path) : path, message, source: 'schema' };
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Renders JSON-pointer segments as a Kubernetes field path. Walks the value so that a numeric segment is an index
 * only where the value really is a list (`tags[0]` would be a map key named "0").
 */
export function renderPath(segments: readonly string[], root: unknown): string {
  let path = '';
  let node: unknown = root;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      path += `[${segment}]`;
      node = node[Number(segment)];
    } else if (isRecord(node) && isMapNode(path)) {
      path += `[${segment}]`;
      node = node[segment];
    } else {
      path += path === '' ? segment : `.${segment}`;
      node = isRecord(node) ? node[segment] : undefined;
    }
  }
  return path;
}

/** Maps (free-form keys) among the schemas: their keys print as `[key]`, like the API server's field paths. */
function isMapNode(path: string): boolean {
  return /(^|\.)selector\.tags$|^metadata\.(labels|annotations)$/.test(path);
}

function joinPath(base: string, path: string): string {
  if (path === '') return base;
  return path.startsWith('[') ? `${base}${path}` : `${base}.${path}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
