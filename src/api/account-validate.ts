/**
 * The CLI's validator for AwsAccount manifests: ajv from the same schema as the CRD, plus the TypeScript mirror of
 * its CEL rule (same message, same path), so `plan -f grants/` and `kubectl apply` refuse the same mistakes.
 */
import type { ValidateFunction } from 'ajv';
import { ACCOUNT_CEL_RULES, type AwsAccount, AwsAccountSchema } from './account-schema.ts';
import type { ValidationIssue } from './errors.ts';
import { createAjv, toIssues, type ValidationResult } from './validate.ts';

let compiled: ValidateFunction | undefined;

export function validateAccount(input: unknown): ValidationResult<AwsAccount> {
  const value = structuredClone(input);
  compiled ??= createAjv().compile(AwsAccountSchema);
  compiled(value);
  const issues: ValidationIssue[] = toIssues(compiled.errors, value);
  const spec = (value as { spec?: { accountId?: unknown; assumeRole?: { roleArn?: unknown } } } | null)?.spec;
  const roleArn = spec?.assumeRole?.roleArn;
  if (
    typeof roleArn === 'string' &&
    typeof spec?.accountId === 'string' &&
    !roleArn.includes(`:iam::${spec.accountId}:role/`)
  ) {
    issues.push({ path: 'spec.assumeRole.roleArn', message: ACCOUNT_CEL_RULES.roleInAccount.message, source: 'cel' });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: value as AwsAccount, issues: [] };
}
