/** STS GetCallerIdentity: proves credentials work (readiness, `plan` preflight). Not rate limited: called rarely. */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Aws } from './context.ts';
import { classifyAwsError } from './errors.ts';

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export async function callerIdentity(aws: Aws, region: string): Promise<CallerIdentity> {
  try {
    const out = await aws.clients(region).sts.send(new GetCallerIdentityCommand({}));
    return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
  } catch (err) {
    throw classifyAwsError(err, 'GetCallerIdentity');
  }
}
