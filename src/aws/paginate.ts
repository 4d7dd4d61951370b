/**
 * The one paginator of the AWS adapters. Every listing goes page by page through the rate limiter, and stops with
 * a typed error instead of looping forever when AWS (or a proxy in between) answers with a token it already sent
 * (a repeated or cycling marker) or more pages than any real account has. Items are handed to `onPage` page by
 * page, so no page is ever spread into an argument list (a 300 MB page overflowed the stack that way).
 */

import type { RegionClients } from './clients.ts';
import type { Aws } from './context.ts';
import { AwsError, type AwsErrorCode } from './errors.ts';
import type { BucketName } from './ratelimit.ts';

/** 10,000 pages of 50 functions is 500,000 functions: ten times AWS's largest documented accounts. */
export const DEFAULT_MAX_PAGES = 10_000;

/** A listing that does not end: a token seen before, or more pages than the bound. Never retried. */
export class AwsPaginationError extends AwsError {
  override readonly name = 'AwsPaginationError';
  readonly code: AwsErrorCode = 'Unexpected';
  readonly region: string;
  readonly account: string | undefined;
  readonly pages: number;

  constructor(message: string, details: { api: string; region: string; account?: string; pages: number }) {
    super(message, undefined, { api: details.api, awsCode: 'PaginationLoop' });
    this.region = details.region;
    this.account = details.account;
    this.pages = details.pages;
  }
}

export interface PaginateSpec<P> {
  region: string;
  bucket: BucketName;
  api: string;
  /** Sends one page request with the token of the previous page (undefined for the first). */
  send: (clients: RegionClients, token: string | undefined) => Promise<P>;
  /** The next token of a page; '' and undefined both end the listing. */
  next: (page: P) => string | undefined;
  /** Consumes one page; may return the account the page revealed (e.g. from an ARN), for error messages. */
  onPage: (page: P) => unknown;
  /** Whether the listing already holds what the caller needs (e.g. an ordered lookup past its name): no more pages. */
  done?: (page: P) => boolean;
  maxPages?: number;
}

/** Runs a listing to its end; returns the number of pages read. */
export async function paginate<P>(aws: Aws, spec: PaginateSpec<P>): Promise<number> {
  const maxPages = spec.maxPages ?? DEFAULT_MAX_PAGES;
  const seen = new Set<string>();
  let account: string | undefined;
  let token: string | undefined;
  let pages = 0;
  for (;;) {
    const sent = token;
    const page = await aws.call({ region: spec.region, bucket: spec.bucket, api: spec.api }, (c) => spec.send(c, sent));
    pages += 1;
    const revealed = spec.onPage(page);
    if (account === undefined && typeof revealed === 'string') account = revealed;
    const nextToken = spec.next(page);
    if (nextToken === undefined || nextToken === '' || spec.done?.(page) === true) return pages;
    const where = `${spec.api} in ${spec.region}${account === undefined ? '' : ` (account ${account})`}`;
    if (seen.has(nextToken) || nextToken === sent) {
      throw new AwsPaginationError(
        `${where}: AWS answered page ${pages} with a pagination token it already sent (${describeToken(nextToken)}); the listing would never end`,
        { api: spec.api, region: spec.region, ...(account === undefined ? {} : { account }), pages },
      );
    }
    if (pages >= maxPages) {
      throw new AwsPaginationError(`${where}: more than ${maxPages} pages; refusing to list further`, {
        api: spec.api,
        region: spec.region,
        ...(account === undefined ? {} : { account }),
        pages,
      });
    }
    seen.add(nextToken);
    token = nextToken;
  }
}

/** A token in a message: short, and without anything that could be mistaken for a credential or a control code. */
function describeToken(token: string): string {
  const safe = token.replace(/[^\x20-\x7e]/g, '?');
  return safe.length > 24 ? `${safe.slice(0, 24)}... (${token.length} characters)` : `"${safe}"`;
}

/** `arn:aws:lambda:region:ACCOUNT:function:name` -> ACCOUNT, when the ARN has that shape. */
export function accountOfArn(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const account = arn.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}
