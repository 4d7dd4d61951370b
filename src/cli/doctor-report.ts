/**
 * What the preflight's answers mean, without I/O: a list of checks (ok / warn / fail / skip), which governed
 * fields the credentials can read in each region, the account's concurrency headroom, and the exit code; rendered
 * as a table for people and as a JSON document (`doctor -o json`) for machines.
 */
import type { PreflightApi, PreflightResult, ProbeError, ProbeOutcome, RegionPreflight } from '../aws/preflight.ts';
import type { RegionAccount } from '../engine/model.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** `identity`, an IAM action (`lambda:ListFunctions`) or `concurrency headroom`. */
  name: string;
  status: CheckStatus;
  detail: string;
  /** A failure because AWS denied the call (credentials or IAM), as opposed to no answer or an error. */
  denied?: boolean;
}

export interface FieldAccess {
  field: string;
  /** The IAM actions the controller needs to read it. */
  needs: string[];
  readable: boolean | 'unknown';
  /** The needed actions that failed (readable false) or were not tried (readable 'unknown'). */
  missing: string[];
}

export interface RegionReport {
  region: string;
  checks: Check[];
  fields: FieldAccess[];
  concurrency?: RegionAccount & { headroom: number };
}

export interface DoctorReport {
  ok: boolean;
  endpoint: string | null;
  identity: Check & { account?: string; arn?: string };
  regions: RegionReport[];
  failures: number;
  warnings: number;
}

export interface DoctorOptions {
  /** `--aws-endpoint` (null: real AWS). */
  endpoint: string | null;
  /** Fail when the unreserved concurrency above AWS's floor is below this (default 0: only warn at 0). */
  minHeadroom: number;
}

/** The IAM action of each probed API (the SDK operation name differs from the action only in its prefix). */
export const IAM_ACTION: Record<PreflightApi, string> = {
  ListFunctions: 'lambda:ListFunctions',
  GetResources: 'tag:GetResources',
  DescribeScalableTargets: 'application-autoscaling:DescribeScalableTargets',
  DescribeScheduledActions: 'application-autoscaling:DescribeScheduledActions',
  DescribeScalingPolicies: 'application-autoscaling:DescribeScalingPolicies',
  GetAccountSettings: 'lambda:GetAccountSettings',
  GetFunction: 'lambda:GetFunction',
  ListProvisionedConcurrencyConfigs: 'lambda:ListProvisionedConcurrencyConfigs',
  ListAliases: 'lambda:ListAliases',
};

/**
 * Which reads each governed field (and the tag selector) depends on, as the bulk read strategy does them: the
 * ListFunctions page carries memory, timeout and architecture; tags come from the tagging API; reserved concurrency
 * from GetFunction (checked against the account's unreserved pool); provisioned concurrency from the function's
 * configs, GetFunction (its reservation caps them; a qualifier's existence) and the account; the schedule windows
 * from Application Auto Scaling.
 */
export const FIELD_READS: readonly { field: string; apis: readonly PreflightApi[] }[] = [
  { field: 'memorySize', apis: ['ListFunctions'] },
  { field: 'timeout', apis: ['ListFunctions'] },
  { field: 'architecture', apis: ['ListFunctions'] },
  { field: 'selector.tags', apis: ['ListFunctions', 'GetResources'] },
  { field: 'reservedConcurrency', apis: ['ListFunctions', 'GetFunction', 'GetAccountSettings'] },
  {
    field: 'provisionedConcurrency',
    apis: ['ListFunctions', 'ListProvisionedConcurrencyConfigs', 'ListAliases', 'GetFunction', 'GetAccountSettings'],
  },
  {
    field: 'provisionedConcurrency.windows',
    apis: ['ListFunctions', 'DescribeScalableTargets', 'DescribeScheduledActions', 'DescribeScalingPolicies'],
  },
];

function failedCheck(name: string, error: ProbeError): Check {
  return { name, status: 'fail', detail: error.message, ...(error.code === 'AccessDenied' ? { denied: true } : {}) };
}

function probeCheck(outcome: ProbeOutcome, region: RegionPreflight): Check {
  const name = IAM_ACTION[outcome.api];
  if (outcome.status === 'failed') return failedCheck(name, outcome.error);
  if (outcome.status === 'skipped') return { name, status: 'skip', detail: outcome.reason };
  const onSample =
    (outcome.api === 'GetFunction' ||
      outcome.api === 'ListProvisionedConcurrencyConfigs' ||
      outcome.api === 'ListAliases') &&
    region.sampleFunction !== undefined
      ? `on ${region.sampleFunction}`
      : '';
  return { name, status: 'ok', detail: onSample };
}

function headroomCheck(account: RegionAccount, minHeadroom: number): Check & { headroom: number } {
  const headroom = account.unreservedConcurrentExecutions - account.unreservedFloor;
  const figures =
    `${account.unreservedConcurrentExecutions} of ${account.concurrentExecutions} unreserved, AWS keeps ` +
    `${account.unreservedFloor}: ${Math.max(0, headroom)} can still be reserved`;
  if (headroom < minHeadroom) {
    return {
      name: 'concurrency headroom',
      status: 'fail',
      detail: `${figures} (--min-headroom ${minHeadroom})`,
      headroom,
    };
  }
  if (headroom <= 0) {
    return {
      name: 'concurrency headroom',
      status: 'warn',
      detail: `${figures}: reservedConcurrency and provisionedConcurrency policies will be infeasible`,
      headroom,
    };
  }
  if (account.concurrentExecutions < 1000) {
    return {
      name: 'concurrency headroom',
      status: 'warn',
      detail: `${figures}; the account limit is below the default 1000 (ask AWS for an increase)`,
      headroom,
    };
  }
  return { name: 'concurrency headroom', status: 'ok', detail: figures, headroom };
}

function fieldAccess(region: RegionPreflight): FieldAccess[] {
  const byApi = new Map(region.probes.map((p) => [p.api, p]));
  return FIELD_READS.map(({ field, apis }) => {
    const failed = apis.filter((api) => byApi.get(api)?.status === 'failed');
    const untried = apis.filter((api) => byApi.get(api)?.status !== 'ok' && byApi.get(api)?.status !== 'failed');
    const readable = failed.length > 0 ? false : untried.length > 0 ? 'unknown' : true;
    const missing = (failed.length > 0 ? failed : untried).map((api) => IAM_ACTION[api]);
    return { field, needs: apis.map((api) => IAM_ACTION[api]), readable, missing };
  });
}

export function buildDoctorReport(result: PreflightResult, options: DoctorOptions): DoctorReport {
  const identity: DoctorReport['identity'] = result.identity.ok
    ? {
        name: 'identity',
        status: 'ok',
        detail: `${result.identity.identity.arn} (account ${result.identity.identity.account})`,
        account: result.identity.identity.account,
        arn: result.identity.identity.arn,
      }
    : failedCheck('identity', result.identity.error);
  const regions = result.regions.map((region): RegionReport => {
    const checks = region.probes.map((p) => probeCheck(p, region));
    const report: RegionReport = { region: region.region, checks, fields: fieldAccess(region) };
    if (region.account) {
      const { headroom, ...check } = headroomCheck(region.account, options.minHeadroom);
      checks.push(check);
      report.concurrency = { ...region.account, headroom };
    }
    return report;
  });
  const all = [identity, ...regions.flatMap((r) => r.checks)];
  const failures = all.filter((c) => c.status === 'fail').length;
  const warnings = all.filter((c) => c.status === 'warn').length;
  return { ok: failures === 0, endpoint: options.endpoint, identity, regions, failures, warnings };
}

/** AWS error messages are printed to a terminal: control characters would be interpreted, so they are shown. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

function checkLine(check: Check, width: number): string {
  const detail = check.detail === '' ? '' : `  ${printable(check.detail)}`;
  return `  ${MARK[check.status].padEnd(4)}  ${check.name.padEnd(width)}${detail}`.trimEnd();
}

function fieldsLine(fields: readonly FieldAccess[]): string[] {
  const groups = new Map<string, string[]>();
  for (const f of fields) {
    const state =
      f.readable === true
        ? 'readable'
        : f.readable === false
          ? `NOT readable (${f.missing.join(', ')} failed)`
          : `not verified (${f.missing.join(', ')} not tried)`;
    groups.set(state, [...(groups.get(state) ?? []), f.field]);
  }
  return [...groups].map(([state, names]) => `  fields ${names.join(', ')}: ${state}`);
}

export function renderDoctorTable(report: DoctorReport): string {
  const width = Math.max('identity'.length, ...report.regions.flatMap((r) => r.checks.map((c) => c.name.length)));
  const lines = [
    `lambda-policy-controller doctor: AWS ${report.endpoint === null ? '(default endpoints)' : printable(report.endpoint)}`,
    '',
  ];
  lines.push(checkLine(report.identity, width));
  for (const region of report.regions) {
    lines.push('', `region ${region.region}`);
    for (const check of region.checks) lines.push(checkLine(check, width));
    lines.push(...fieldsLine(region.fields));
  }
  lines.push('');
  if (report.ok) {
    const warned = report.warnings > 0 ? ` (${report.warnings} warning${report.warnings === 1 ? '' : 's'})` : '';
    lines.push(`result: every check passed${warned}: the controller can read what it governs`);
  } else {
    const checks = [report.identity, ...report.regions.flatMap((r) => r.checks)].filter((c) => c.status === 'fail');
    const denied = checks.filter((c) => c.denied).length;
    const advice = [
      ...(denied > 0 ? [`${denied} denied: give the role the actions in docs/iam/`] : []),
      ...(checks.length > denied
        ? [`${checks.length - denied} not answered: check the endpoint, the network and the region names`]
        : []),
    ];
    lines.push(
      `result: ${report.failures} check${report.failures === 1 ? '' : 's'} failed (${advice.join('; ')}); fix ` +
        'before enabling Enforce',
    );
  }
  return `${lines.join('\n')}\n`;
}
