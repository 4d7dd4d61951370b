/**
 * AWS Organizations' read APIs (JSON 1.1, `AWSOrganizationsV20161128.*`) over the emulated organization:
 * DescribeOrganization, ListAccountsForParent, ListOrganizationalUnitsForParent, ListTagsForResource. Like AWS:
 * only the management account may call them (AccessDeniedException otherwise), an account outside any
 * organization gets AWSOrganizationsNotInUseException, pages hold at most 20 (MaxResults 1..20) and a list may
 * answer an empty page that still carries a NextToken.
 */
import { compareOrdinal } from '../shared/compare.ts';
import { AwsError } from './errors.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { decodeToken, encodeToken, num, str } from './http-types.ts';
import { type OrganizationState, organizationOf } from './organizations.ts';
import type { EmulatorRuntime } from './runtime.ts';

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.';
const PAGE_MAX = 20;
/** Tags are paged too (ListTagsForResource takes no MaxResults). */
const TAG_PAGE = 20;
const APIS = new Set([
  'DescribeOrganization',
  'ListAccountsForParent',
  'ListOrganizationalUnitsForParent',
  'ListTagsForResource',
]);

export function routeOrganizations(
  home: EmulatorRuntime,
  caller: EmulatorRuntime,
  req: ApiRequest,
  target: string,
): Operation | undefined {
  const api = target.slice(ORGANIZATIONS_TARGET_PREFIX.length);
  if (!APIS.has(api)) return undefined;
  return {
    api,
    run: () => {
      const org = organizationOf(home);
      const callerId = caller.store.accountId;
      if (!org || (callerId !== org.managementAccountId && !org.accounts.has(callerId))) {
        throw new AwsError(
          'AWSOrganizationsNotInUseException',
          400,
          'Your account is not a member of an organization.',
        );
      }
      if (callerId !== org.managementAccountId) {
        throw new AwsError('AccessDeniedException', 400, "You don't have permissions to access this resource.");
      }
      switch (api) {
        case 'DescribeOrganization':
          return describeOrganization(org);
        case 'ListAccountsForParent':
          return listAccounts(org, req.body);
        case 'ListOrganizationalUnitsForParent':
          return listUnits(org, req.body);
        default:
          return listTags(org, req.body);
      }
    },
  };
}

function invalidInput(reason: string, message: string): AwsError {
  return new AwsError('InvalidInputException', 400, message, { fields: { Reason: reason } });
}

function describeOrganization(org: OrganizationState): ApiResponse {
  return {
    status: 200,
    body: {
      Organization: {
        Id: org.id,
        Arn: `arn:aws:organizations::${org.managementAccountId}:organization/${org.id}`,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.id}/${org.managementAccountId}`,
        MasterAccountId: org.managementAccountId,
        MasterAccountEmail: `aws+${org.managementAccountId}@example.com`,
        AvailablePolicyTypes: [],
      },
    },
  };
}

function parentOf(org: OrganizationState, body: Record<string, unknown>): string {
  const parentId = str(body.ParentId);
  if (!parentId) throw invalidInput('INPUT_REQUIRED', 'You must specify a value for ParentId.');
  if (!org.parents.has(parentId)) {
    throw new AwsError('ParentNotFoundException', 400, `We can't find a root or OU with the ParentId ${parentId}.`);
  }
  return parentId;
}

/** One page of `items` (sorted by id) after the token's key; empty pages first while the organization is told to send them. */
function page<T extends { id: string }>(
  org: OrganizationState,
  items: readonly T[],
  body: Record<string, unknown>,
  size: number,
): { items: T[]; next?: string } {
  const token = str(body.NextToken);
  let after: string | undefined;
  if (token !== undefined) {
    const decoded = decodeToken(token);
    // Every token starts with '@' (so the empty page's token before the first item is not empty).
    if (decoded === undefined || !decoded.startsWith('@'))
      throw invalidInput('INVALID_PAGINATION_TOKEN', 'The NextToken is not valid.');
    after = decoded.slice(1).split('#')[0] || undefined;
  }
  const start = after === undefined ? 0 : items.findIndex((i) => i.id > after);
  const from = start < 0 ? items.length : start;
  if (org.emptyPages > 0 && from < items.length) {
    org.emptyPages--;
    // The token keeps the position (the next call serves what this one left out); each is a new token.
    return { items: [], next: encodeToken(`@${after ?? ''}#${org.emptyPages}`) };
  }
  const slice = items.slice(from, from + size);
  const last = slice.at(-1);
  return from + size < items.length && last ? { items: slice, next: encodeToken(`@${last.id}`) } : { items: slice };
}

function pageSize(body: Record<string, unknown>): number {
  if (body.MaxResults === undefined) return PAGE_MAX;
  const n = num(body.MaxResults);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > PAGE_MAX) {
    throw invalidInput('MAX_VALUE_EXCEEDED', `MaxResults must be between 1 and ${PAGE_MAX}.`);
  }
  return n;
}

function listAccounts(org: OrganizationState, body: Record<string, unknown>): ApiResponse {
  const parentId = parentOf(org, body);
  const size = pageSize(body);
  const { items, next } = page(org, org.childAccounts(parentId), body, size);
  return {
    status: 200,
    body: {
      Accounts: items.map((a) => ({
        Id: a.id,
        Arn: org.arn('account', a.id),
        Email: a.email,
        Name: a.name,
        State: a.state,
        JoinedMethod: 'CREATED',
        JoinedTimestamp: a.joinedAt / 1000,
      })),
      ...(next !== undefined ? { NextToken: next } : {}),
    },
  };
}

function listUnits(org: OrganizationState, body: Record<string, unknown>): ApiResponse {
  const parentId = parentOf(org, body);
  const size = pageSize(body);
  const { items, next } = page(org, org.childUnits(parentId), body, size);
  return {
    status: 200,
    body: {
      OrganizationalUnits: items.map((u) => ({ Id: u.id, Arn: org.arn('ou', u.id), Name: u.name })),
      ...(next !== undefined ? { NextToken: next } : {}),
    },
  };
}

function listTags(org: OrganizationState, body: Record<string, unknown>): ApiResponse {
  const resourceId = str(body.ResourceId);
  if (!resourceId) throw invalidInput('INPUT_REQUIRED', 'You must specify a value for ResourceId.');
  const account = org.accounts.get(resourceId);
  if (!account && !org.parents.has(resourceId)) {
    throw new AwsError('TargetNotFoundException', 400, `We can't find a resource with the ID ${resourceId}.`);
  }
  const tags = Object.entries(account?.tags ?? {})
    .map(([key, value]) => ({ id: key, value }))
    .sort((a, b) => compareOrdinal(a.id, b.id));
  const { items, next } = page(org, tags, body, TAG_PAGE);
  return {
    status: 200,
    body: {
      Tags: items.map((t) => ({ Key: t.id, Value: t.value })),
      ...(next !== undefined ? { NextToken: next } : {}),
    },
  };
}
