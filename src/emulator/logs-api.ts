/**
 * A CloudWatch Logs subset (JSON 1.1, `Logs_20140328.*`): the log groups Lambda functions write to and their
 * retention. CreateLogGroup, DeleteLogGroup, DescribeLogGroups (prefix, at most 50 a page, by name),
 * PutRetentionPolicy (only the values CloudWatch Logs accepts) and DeleteRetentionPolicy.
 */
import { AwsError } from './errors.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { decodeToken, encodeToken, num, str, upperBound } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';
import type { LogGroupRecord, RegionState } from './store.ts';

export const LOGS_TARGET_PREFIX = 'Logs_20140328.';
const PAGE_MAX = 50;
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', 400, message);
}

function groupName(value: unknown, member = 'logGroupName'): string {
  const name = str(value);
  if (name === undefined) {
    throw invalid(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!NAME.test(name)) {
    throw invalid(
      `1 validation error detected: Value '${name}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  }
  return name;
}

function notFound(): AwsError {
  return new AwsError('ResourceNotFoundException', 400, 'The specified log group does not exist.');
}

/** Creates a log group (seeds and CreateLogGroup). */
export function createLogGroup(
  region: RegionState,
  accountId: string,
  name: string,
  nowMs: number,
  retentionInDays?: number,
): LogGroupRecord {
  const record: LogGroupRecord = {
    name,
    creationTime: Math.floor(nowMs),
    arn: `arn:aws:logs:${region.region}:${accountId}:log-group:${name}:*`,
  };
  if (retentionInDays !== undefined) record.retentionInDays = retentionInDays;
  region.logGroups.set(name, record);
  return record;
}

export function routeLogs(rt: EmulatorRuntime, req: ApiRequest, target: string): Operation | undefined {
  const api = target.slice(LOGS_TARGET_PREFIX.length);
  const region = rt.store.region(req.region);
  const b = req.body;
  const run = (): ApiResponse => {
    switch (api) {
      case 'CreateLogGroup': {
        const name = groupName(b.logGroupName);
        if (region.logGroups.has(name)) {
          throw new AwsError('ResourceAlreadyExistsException', 400, 'The specified log group already exists');
        }
        createLogGroup(region, rt.store.accountId, name, rt.nowMs());
        return { status: 200, body: {} };
      }
      case 'DeleteLogGroup': {
        if (!region.logGroups.delete(groupName(b.logGroupName))) throw notFound();
        return { status: 200, body: {} };
      }
      case 'PutRetentionPolicy': {
        const group = region.logGroups.get(groupName(b.logGroupName));
        const days = num(b.retentionInDays);
        if (days === undefined || !RETENTION_DAYS.includes(days)) {
          throw invalid(
            `1 validation error detected: Value '${days ?? 'null'}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
          );
        }
        if (!group) throw notFound();
        group.retentionInDays = days;
        return { status: 200, body: {} };
      }
      case 'DeleteRetentionPolicy': {
        const group = region.logGroups.get(groupName(b.logGroupName));
        if (!group) throw notFound();
        delete group.retentionInDays;
        return { status: 200, body: {} };
      }
      case 'DescribeLogGroups':
        return describe(region, b);
    }
    throw new AwsError('UnknownOperationException', 400, `Operation ${target} is not supported`);
  };
  const op: Operation = { api, run };
  const name = str(b.logGroupName);
  if (name) op.resourceId = name;
  return op;
}

function describe(region: RegionState, b: Record<string, unknown>): ApiResponse {
  const limit = num(b.limit) ?? PAGE_MAX;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
    throw invalid(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${PAGE_MAX}`,
    );
  }
  const prefix = str(b.logGroupNamePrefix);
  if (prefix !== undefined && str(b.logGroupNamePattern) !== undefined) {
    throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
  }
  const names = [...region.logGroups.keys()].sort();
  let start = prefix === undefined ? 0 : upperBound(names, prefix) - (names.includes(prefix) ? 1 : 0);
  const token = str(b.nextToken);
  if (token) {
    const last = decodeToken(token);
    if (last === undefined) throw invalid('The specified nextToken is invalid.');
    start = upperBound(names, last);
  }
  const page: string[] = [];
  let i = start;
  for (; i < names.length && page.length < limit; i++) {
    const name = names[i] as string;
    if (prefix !== undefined && !name.startsWith(prefix)) break;
    page.push(name);
  }
  const more = i < names.length && (prefix === undefined || (names[i] as string).startsWith(prefix));
  const body: Record<string, unknown> = {
    logGroups: page.map((name) => {
      const g = region.logGroups.get(name) as LogGroupRecord;
      return {
        logGroupName: g.name,
        creationTime: g.creationTime,
        metricFilterCount: 0,
        arn: g.arn,
        logGroupArn: g.arn.replace(/:\*$/, ''),
        storedBytes: 0,
        logGroupClass: 'STANDARD',
        ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
      };
    }),
  };
  const last = page.at(-1);
  if (more && last !== undefined) body.nextToken = encodeToken(last);
  return { status: 200, body };
}
