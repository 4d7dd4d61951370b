/**
 * How the API layer reports a bad policy: a list of issues, each naming a field the way the Kubernetes API server
 * does (`spec.settings.provisionedConcurrency.windows[0].start`) and saying what is wrong with it.
 */

/**
 * Who enforces the rule an issue comes from:
 * - `schema`: the OpenAPI schema (the API server applies it too);
 * - `cel`: a CEL rule of the CRD (the API server applies it too);
 * - `cli`: only the TypeScript validator (a cron field that does not parse, an unknown time zone) — the controller
 *   reports these in status, because the API server accepted the object.
 */
export type IssueSource = 'schema' | 'cel' | 'cli';

export interface ValidationIssue {
  /** Field path as the API server prints it: dots for fields, `[i]` for list items, `[key]` for map keys. */
  path: string;
  message: string;
  source: IssueSource;
  /** 1-based line of the field in the file it was read from, when it came from a file. */
  line?: number;
}

/** `spec.settings.timeout: must be <= 900` */
export function formatIssue(issue: Pick<ValidationIssue, 'path' | 'message'>): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/** A policy object failed validation. */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
  readonly code = 'PolicyInvalid';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options?: ErrorOptions) {
    super(issues.map(formatIssue).join('; '), options);
    this.issues = issues;
  }
}

export type PolicyDocumentErrorCode = 'YamlSyntax' | 'PolicyInvalid';

/**
 * One document of a policy file could not be used. The message names the file, the document (0-based index in
 * the multi-document stream), the policy when it has a name, then each issue:
 * `policies/api.yaml#1 api-tier: spec.settings.timeout: must be <= 900`.
 */
export class PolicyDocumentError extends Error {
  override readonly name = 'PolicyDocumentError';
  readonly code: PolicyDocumentErrorCode;
  readonly source: string;
  readonly docIndex: number;
  readonly policyName: string | undefined;
  readonly issues: readonly ValidationIssue[];

  constructor(
    init: {
      code: PolicyDocumentErrorCode;
      source: string;
      docIndex: number;
      policyName?: string | undefined;
      issues: readonly ValidationIssue[];
    },
    options?: ErrorOptions,
  ) {
    const where = `${init.source}#${init.docIndex}${init.policyName ? ` ${init.policyName}` : ''}`;
    // The line goes last, as YAML syntax errors say it, so `file#doc name:` stays the stable prefix to grep for.
    const located = (issue: ValidationIssue): string =>
      issue.line === undefined ? formatIssue(issue) : `${formatIssue(issue)} (line ${issue.line})`;
    super(init.issues.map((issue) => `${where}: ${located(issue)}`).join('\n'), options);
    this.code = init.code;
    this.source = init.source;
    this.docIndex = init.docIndex;
    this.policyName = init.policyName;
    this.issues = init.issues;
  }
}

/** Several documents failed; thrown by `parsePoliciesOrThrow` so a CLI can print every problem at once. */
export class PolicyParseError extends Error {
  override readonly name = 'PolicyParseError';
  readonly code = 'PolicyParseFailed';
  readonly errors: readonly PolicyDocumentError[];

  constructor(errors: readonly PolicyDocumentError[]) {
    super(errors.map((error) => error.message).join('\n'), { cause: errors[0] });
    this.errors = errors;
  }
}
