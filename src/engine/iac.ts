/**
 * Functions owned by infrastructure as code. A fix written to such a function is reverted by the next deploy of
 * its stack, so by default (spec.iacManaged: Audit) its drift is reported with the owner and the template property
 * to change, and never written. Owners are read from tags only (no extra AWS call):
 *
 * - `aws:cloudformation:stack-name`: CloudFormation propagates it to every function of a stack, so it also covers
 *   SAM, CDK and the Serverless Framework, which all deploy through CloudFormation;
 * - `lambda:createdBy: SAM`: SAM's own tag (the template resource is then AWS::Serverless::Function);
 * - tags the installation configures (`--iac-owner-tags ManagedBy=terraform,owner`): a key with a value, or a
 *   key alone for any value. A value or key naming Terraform gives Terraform's attribute names.
 */
import type { FieldName } from './model.ts';

export interface IacOwnerTag {
  key: string;
  /** Absent: any value of the key. */
  value?: string;
}

export type IacTool = 'CloudFormation' | 'SAM' | 'Terraform' | 'Tag';

export interface IacOwner {
  tool: IacTool;
  /** Who owns it, for people: `CloudFormation stack orders-prod`, `tag ManagedBy=terraform`. */
  owner: string;
  /** The template resource that declares the function. */
  resourceType: string;
}

export const CFN_STACK_TAG = 'aws:cloudformation:stack-name';
export const SAM_CREATED_BY_TAG = 'lambda:createdBy';

/** Template property per governed field, per resource type. */
const PROPERTIES: Record<string, Record<FieldName, string>> = {
  'AWS::Lambda::Function': {
    memorySize: 'MemorySize',
    timeout: 'Timeout',
    architecture: 'Architectures',
    reservedConcurrency: 'ReservedConcurrentExecutions',
    provisionedConcurrency: 'ProvisionedConcurrencyConfig of its AWS::Lambda::Alias',
    scheduledActions: 'ScheduledActions of its AWS::ApplicationAutoScaling::ScalableTarget',
    logging: 'LoggingConfig',
    tracing: 'TracingConfig',
    asyncInvocation: 'MaximumRetryAttempts/MaximumEventAgeInSeconds of its AWS::Lambda::EventInvokeConfig',
    logRetentionDays: 'RetentionInDays of its AWS::Logs::LogGroup',
  },
  'AWS::Serverless::Function': {
    memorySize: 'MemorySize',
    timeout: 'Timeout',
    architecture: 'Architectures',
    reservedConcurrency: 'ReservedConcurrentExecutions',
    provisionedConcurrency: 'ProvisionedConcurrencyConfig',
    scheduledActions: 'ScheduledActions of its AWS::ApplicationAutoScaling::ScalableTarget',
    logging: 'LoggingConfig',
    tracing: 'Tracing',
    asyncInvocation: 'EventInvokeConfig',
    logRetentionDays: 'RetentionInDays of its AWS::Logs::LogGroup',
  },
  aws_lambda_function: {
    memorySize: 'memory_size',
    timeout: 'timeout',
    architecture: 'architectures',
    reservedConcurrency: 'reserved_concurrent_executions',
    provisionedConcurrency: 'provisioned_concurrent_executions of its aws_lambda_provisioned_concurrency_config',
    scheduledActions: 'its aws_appautoscaling_scheduled_action resources',
    logging: 'logging_config',
    tracing: 'tracing_config',
    asyncInvocation: 'its aws_lambda_function_event_invoke_config',
    logRetentionDays: 'retention_in_days of its aws_cloudwatch_log_group',
  },
};

/** The function's IaC owner from its tags, or undefined when none is recognised. */
export function detectIacOwner(
  tags: Readonly<Record<string, string>>,
  ownerTags: readonly IacOwnerTag[] = [],
): IacOwner | undefined {
  const sam = tags[SAM_CREATED_BY_TAG] === 'SAM';
  const stack = tags[CFN_STACK_TAG];
  if (stack !== undefined) {
    return {
      tool: sam ? 'SAM' : 'CloudFormation',
      owner: `CloudFormation stack ${stack}`,
      resourceType: sam ? 'AWS::Serverless::Function' : 'AWS::Lambda::Function',
    };
  }
  if (sam)
    return { tool: 'SAM', owner: `SAM (tag ${SAM_CREATED_BY_TAG}=SAM)`, resourceType: 'AWS::Serverless::Function' };
  for (const t of ownerTags) {
    const value = tags[t.key];
    if (value === undefined || (t.value !== undefined && value !== t.value)) continue;
    const terraform = /terraform/i.test(`${t.key}=${value}`);
    return {
      tool: terraform ? 'Terraform' : 'Tag',
      owner: `tag ${t.key}=${value}`,
      resourceType: terraform ? 'aws_lambda_function' : 'the resource that declares the function',
    };
  }
  return undefined;
}

/** Where to make the change instead, e.g. `MemorySize of AWS::Lambda::Function`. */
export function templateProperty(owner: IacOwner, field: FieldName): string {
  const property = PROPERTIES[owner.resourceType]?.[field] ?? field;
  return `${property} of ${owner.resourceType}`;
}

/** One sentence for status and plan: who owns the function and what to change where. */
export function iacMessage(owner: IacOwner, changes: readonly { field: FieldName; desired: unknown }[]): string {
  const what = changes.map((c) => `${templateProperty(owner, c.field)} to ${JSON.stringify(c.desired)}`);
  return `owned by ${owner.owner}: not written; change ${what.join(', ')} in its template`;
}

export class IacOwnerTagsError extends Error {
  override readonly name = 'IacOwnerTagsError';
}

const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

/** Parses `KEY=VALUE,KEY,...` (the flag and the chart value); throws IacOwnerTagsError naming the bad entry. */
export function parseIacOwnerTags(text: string): IacOwnerTag[] {
  const out: IacOwnerTag[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = (eq < 0 ? entry : entry.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : entry.slice(eq + 1).trim();
    if (!TAG_KEY.test(key) || key.includes('=')) {
      throw new IacOwnerTagsError(`IaC owner tag ${JSON.stringify(entry)}: the key must be 1-128 tag characters`);
    }
    if (value !== undefined && (value === '' || value.length > 256)) {
      throw new IacOwnerTagsError(
        `IaC owner tag ${JSON.stringify(entry)}: write KEY=VALUE with a value of 1-256 characters, or KEY alone for any value`,
      );
    }
    out.push(value === undefined ? { key } : { key, value });
  }
  return out;
}
