/**
 * Resource Groups Tagging API (JSON 1.1, `ResourceGroupsTaggingAPI_20170126.GetResources`): the bulk tag read
 * (100 resources per page) a controller uses instead of one ListTags per function. Only Lambda functions exist
 * here; like AWS, only resources that are or were tagged are returned.
 */
import { AwsError } from './errors.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { decodeToken, encodeToken, isRecord, num, str, stringList, upperBound } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';
import type { FunctionRecord } from './store.ts';

export const TAGGING_TARGET_PREFIX = 'ResourceGroupsTaggingAPI_20170126.';
const PAGE_MAX = 100;

export function routeTagging(rt: EmulatorRuntime, req: ApiRequest, target: string): Operation | undefined {
  const api = target.slice(TAGGING_TARGET_PREFIX.length);
  if (api !== 'GetResources') return undefined;
  return { api, run: () => getResources(rt, req) };
}

interface TagFilter {
  key: string;
  values: string[];
}

function parseFilters(value: unknown): TagFilter[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 50) {
    throw new AwsError('InvalidParameterException', 400, 'TagFilters must be a list of at most 50 filters');
  }
  return value.map((f) => {
    const key = isRecord(f) ? str(f.Key) : undefined;
    if (!key) throw new AwsError('InvalidParameterException', 400, 'Each TagFilter needs a Key');
    return { key, values: (isRecord(f) ? stringList(f.Values) : undefined) ?? [] };
  });
}

function matches(fn: FunctionRecord, filters: TagFilter[]): boolean {
  for (const f of filters) {
    const value = fn.tags[f.key];
    if (value === undefined) return false;
    if (f.values.length > 0 && !f.values.includes(value)) return false;
  }
  return true;
}

function wantsLambdaFunctions(types: string[] | undefined): boolean {
  if (!types || types.length === 0) return true;
  return types.some((t) => t === 'lambda' || t === 'lambda:function');
}

function getResources(rt: EmulatorRuntime, req: ApiRequest): ApiResponse {
  const b = req.body;
  const perPage = num(b.ResourcesPerPage) ?? PAGE_MAX;
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > PAGE_MAX) {
    throw new AwsError('InvalidParameterException', 400, `ResourcesPerPage must be between 1 and ${PAGE_MAX}`);
  }
  const filters = parseFilters(b.TagFilters);
  const region = rt.store.region(req.region);
  const list: Record<string, unknown>[] = [];
  let nextToken = '';
  if (wantsLambdaFunctions(stringList(b.ResourceTypeFilters))) {
    const names = region.sortedNames();
    let index = 0;
    const token = str(b.PaginationToken);
    if (token) {
      const last = decodeToken(token);
      if (last === undefined) throw new AwsError('InvalidParameterException', 400, 'Invalid PaginationToken');
      index = upperBound(names, last);
    }
    const arns = stringList(b.ResourceARNList);
    for (; index < names.length && list.length < perPage; index++) {
      const fn = region.functions.get(names[index] ?? '');
      if (!fn?.everTagged || !matches(fn, filters)) continue;
      if (arns && arns.length > 0 && !arns.includes(fn.arn)) continue;
      list.push({
        ResourceARN: fn.arn,
        Tags: Object.entries(fn.tags).map(([Key, Value]) => ({ Key, Value })),
      });
    }
    if (list.length === perPage && index < names.length) nextToken = encodeToken(names[index - 1] ?? '');
  }
  // AWS answers an empty string (not an absent field) on the last page.
  return { status: 200, body: { PaginationToken: nextToken, ResourceTagMappingList: list } };
}
