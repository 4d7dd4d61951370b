/**
 * The e2e assertion "no write outside the policies' grants" can fail: writes sent with the real SDK to the
 * emulator's accounts are judged against policies, AwsAccounts (scope included) and namespace labels, and each
 * write no policy may make there is named.
 */

import { LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, expect, it } from 'vitest';
import type { AwsAccount } from '../../../src/api/account-schema.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { writeBookmarks, writesOutsideGrants } from '../../e2e/harness/write-grants.ts';
import { clientsFor } from '../emulator/clients.ts';

const EU = 'eu-central-1';
const OTHER = '210987654321';
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
});

const policy = (namespace: string, selector: LambdaPolicy['spec']['selector']): LambdaPolicy => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'LambdaPolicy',
  metadata: { name: 'p', namespace },
  spec: { selector, settings: { memorySize: 1024 } },
});

const other: AwsAccount = {
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name: 'other' },
  spec: {
    accountId: OTHER,
    regions: [EU],
    policyNamespaces: { matchLabels: { team: 'a' } },
    scope: { functionNames: ['a-*'] },
  },
};

it('names each write no policy may make there, and only those', async () => {
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accountId: '123456789012',
      functions: [{ name: 'home-api', region: EU }],
      accounts: [
        {
          accountId: OTHER,
          roles: [{ name: 'lpc' }],
          functions: [
            { name: 'a-api', region: EU },
            { name: 'b-api', region: EU },
          ],
        },
      ],
    },
  });
  const home = clientsFor(emulator.url);
  const assumed = await home.sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OTHER}:role/lpc`, RoleSessionName: 'write-grants' }),
  );
  const c = assumed.Credentials;
  const inOther = new LambdaClient({
    endpoint: emulator.url,
    region: EU,
    maxAttempts: 1,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    },
  });
  const write = (client: LambdaClient, name: string) =>
    client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: 1024 }));
  const bookmark = writeBookmarks(emulator);
  await write(home.lambda, 'home-api');
  await write(inOther, 'a-api');
  await write(inOther, 'b-api');
  const check = {
    emulator,
    accounts: [other],
    namespaceLabels: new Map([['team-a', { team: 'a' }]]),
    defaultRegions: [EU],
  };

  // A policy of team-a over the other account: b-api is outside the account's scope; home-api is the home
  // account's, which this policy does not reach.
  expect(
    writesOutsideGrants({ ...check, policies: [policy('team-a', { accounts: ['other'], functionNames: ['*'] })] }),
  ).toEqual([
    '#1 UpdateFunctionConfiguration account 123456789012 eu-central-1/home-api: no policy may write it there',
    `#2 UpdateFunctionConfiguration account ${OTHER} eu-central-1/b-api: no policy may write it there`,
  ]);
  // The same policy from an ungranted namespace may write nothing in the other account.
  expect(
    writesOutsideGrants({ ...check, policies: [policy('team-b', { accounts: ['other'], functionNames: ['*'] })] }),
  ).toHaveLength(3);
  // A home policy (every namespace by default) covers home-api; a home grant of nobody does not.
  const homePolicy = policy('team-b', { functionNames: ['home-*'] });
  expect(writesOutsideGrants({ ...check, policies: [homePolicy], since: new Map([[OTHER, 99]]) })).toEqual([]);
  expect(
    writesOutsideGrants({ ...check, policies: [homePolicy], homePolicyNamespaces: null, since: bookmark }),
  ).toEqual([
    '#1 UpdateFunctionConfiguration account 123456789012 eu-central-1/home-api: no policy may write it there',
    `#1 UpdateFunctionConfiguration account ${OTHER} eu-central-1/a-api: no policy may write it there`,
    `#2 UpdateFunctionConfiguration account ${OTHER} eu-central-1/b-api: no policy may write it there`,
  ]);
});
