/**
 * Fault: an assumed role's credentials expire in the middle of a pass (the account's sessions end early, after a
 * given number of calls, long before their Expiration). The pass over that account — reads, then 30 writes — must
 * complete with every write applied once and none failed: the clients refresh the credentials (AssumeRole again)
 * and resend the refused call. The real SDK, the multi-account pass and the emulator's `sessions/expire` fault.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePoliciesOrThrow, toPolicyInput } from '../../../src/api/parse.ts';
import { sdkClientConfig } from '../../../src/aws/clients.ts';
import { CredentialCache } from '../../../src/aws/credentials.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import { type AccountGrant, HOME_ACCOUNT, homeGrant, type TenancyInput } from '../../../src/engine/grants.ts';
import { reconcileAccounts } from '../../../src/reconcile/accounts.ts';
import { systemClock } from '../../../src/shared/clock.ts';

const REGION = 'eu-central-1';
const PAYMENTS = '210987654321';
const FUNCTIONS = 30;

const POLICY = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: payments }
spec:
  selector: { regions: [${REGION}], functionNames: ["*"], accounts: [payments] }
  settings: { memorySize: 1024 }
`;

describe('credentials expiring mid-pass', () => {
  let emulator: Emulator;
  let created: Aws[];
  let sts: STSClient;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accounts: [
          {
            accountId: PAYMENTS,
            roles: [{ name: 'lpc', externalId: 'lpc-7f3a' }],
            functions: Array.from({ length: FUNCTIONS }, (_, i) => ({
              name: `payments-${String(i).padStart(2, '0')}`,
              region: REGION,
              memorySize: 128,
            })),
          },
        ],
      },
    });
    created = [];
    sts = new STSClient(sdkClientConfig(REGION, { endpoint: emulator.url }));
  });
  afterEach(async () => {
    for (const aws of created) aws.destroy();
    sts.destroy();
    await emulator.stop();
  });

  async function pass(expireAfterCalls: number | undefined) {
    const assumes: string[] = [];
    const expired: string[] = [];
    const cache = new CredentialCache({
      sts,
      clock: systemClock,
      onAssume: (e) => assumes.push(e.outcome),
      onExpired: (e) => expired.push(e.account),
    });
    const grant: AccountGrant = {
      name: 'payments',
      accountId: PAYMENTS,
      labels: {},
      regions: [REGION],
      policyNamespaces: {},
    };
    const tenancy: TenancyInput = {
      accounts: [grant],
      home: homeGrant('123456789012', [REGION], {}),
      namespaceLabels: new Map([['payments', {}]]),
      defaultRegions: [REGION],
    };
    const awsFor = (account: AccountGrant): Aws => {
      const aws = createAws({
        regions: [REGION],
        endpoint: emulator.url,
        ...(account.name === HOME_ACCOUNT
          ? {}
          : {
              credentials: cache.provider({
                account: account.name,
                accountId: account.accountId,
                roleArn: `arn:aws:iam::${PAYMENTS}:role/lpc`,
                externalId: 'lpc-7f3a',
              }),
            }),
      });
      created.push(aws);
      return aws;
    };
    // The first session is issued by the pass itself; the fault arms once it exists.
    if (expireAfterCalls !== undefined) {
      await cache.get({
        account: 'payments',
        accountId: PAYMENTS,
        roleArn: `arn:aws:iam::${PAYMENTS}:role/lpc`,
        externalId: 'lpc-7f3a',
      });
      await emulatorAdmin(emulator.url, 'POST', `sessions/expire?account=${PAYMENTS}`, {
        afterCalls: expireAfterCalls,
      });
    }
    const policies = parsePoliciesOrThrow(POLICY, 'policy.yaml').map(toPolicyInput);
    const result = await reconcileAccounts(tenancy, policies, awsFor, { enforce: true });
    return { result, assumes, expired };
  }

  it('the pass completes: every write applied once, zero failed, one refresh', async () => {
    // Arrange: the session ends on its 40th call. The pass makes 6 reads, then per function a GetFunction, the
    // UpdateFunctionConfiguration and a GetFunction waiting for it: the 40th is well among the writes.
    const { result, assumes, expired } = await pass(40);

    // Assert
    const [payments] = result.passes;
    expect(payments?.error).toBeUndefined();
    const executions = payments?.result?.executions ?? [];
    expect(executions).toHaveLength(FUNCTIONS);
    expect(executions.filter((e) => !e.ok)).toEqual([]);
    const writes = emulator.runtime.accounts.get(PAYMENTS)?.writes ?? [];
    expect(writes.filter((w) => !w.ok)).toEqual([]);
    expect(writes.filter((w) => w.api === 'UpdateFunctionConfiguration')).toHaveLength(FUNCTIONS);
    expect(new Set(writes.map((w) => w.function)).size).toBe(FUNCTIONS);
    const state = emulator.runtime.accounts.get(PAYMENTS)?.store.region(REGION);
    expect([...(state?.functions.values() ?? [])].every((f) => f.config.memorySize === 1024)).toBe(true);
    // The expiry did happen mid-pass and cost exactly one more AssumeRole.
    expect(expired).toEqual(['payments']);
    expect(assumes).toEqual(['ok', 'ok']);
    // Some writes were signed with the first session, the rest with the second.
    expect(new Set(writes.map((w) => w.accessKeyId)).size).toBe(2);
  });

  it('without the fault the same pass needs one AssumeRole (the fault is what the refresh answers)', async () => {
    const { result, assumes, expired } = await pass(undefined);
    expect(result.passes[0]?.result?.executions.filter((e) => !e.ok)).toEqual([]);
    expect(assumes).toEqual(['ok']);
    expect(expired).toEqual([]);
  });
});
