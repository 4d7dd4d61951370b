/**
 * The one paginator against the emulator over the real SDK: a repeated token ends the listing with an error that
 * names the API, the region and the account; a page bound stops listings that would never end; and a page far
 * larger than any argument list is consumed without spreading it.
 */
import { PutScheduledActionCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { ListFunctionsCommand, type ListFunctionsCommandOutput } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { listAllFunctions, listOwnedScheduledActions, readFleet } from '../../../src/aws/inventory.ts';
import { AwsPaginationError, paginate } from '../../../src/aws/paginate.ts';
import type { AnswerFault } from '../../../src/emulator/faults.ts';
import { type Harness, startHarness } from './harness.ts';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(functions: number): Promise<Harness> {
  h = await startHarness({
    seed: {
      accountId: ACCOUNT,
      functions: Array.from({ length: functions }, (_, i) => ({ name: `fn-${i}`, region: REGION })),
    },
  });
  return h;
}

async function breakAnswers(target: Harness, answers: AnswerFault[]): Promise<void> {
  await target.admin('POST', 'faults', { answers });
}

describe('paginate', () => {
  it('a repeated NextMarker ends ListFunctions with an error naming API, region and account', async () => {
    const t = await harness(120);
    await breakAnswers(t, [{ api: 'ListFunctions', kind: 'repeatToken', value: 'loop', count: 1000 }]);
    const err = await readFleet(t.aws, [REGION], () => []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsPaginationError);
    expect(err).toMatchObject({ api: 'ListFunctions', region: REGION, account: ACCOUNT, code: 'Unexpected' });
    expect((err as Error).message).toMatch(/ListFunctions in eu-central-1 \(account 123456789012\).*already sent/);
    // Page 1 carried "loop", page 2 (sent with "loop") carried it again: stopped after two pages, not retried.
    expect(t.events.filter((e) => e.api === 'ListFunctions')).toHaveLength(2);
  });

  it('a NextToken of DescribeScheduledActions that comes back again is caught too', async () => {
    h = await startHarness({
      seed: { functions: [{ name: 'fn-0', region: REGION, aliases: [{ name: 'live', version: '1' }] }] },
    });
    const t = h;
    const { autoscaling } = t.aws.clients(REGION);
    const resource = { ServiceNamespace: 'lambda', ResourceId: 'function:fn-0:live' } as const;
    const dimension = 'lambda:function:ProvisionedConcurrency' as const;
    await autoscaling.send(
      new RegisterScalableTargetCommand({ ...resource, ScalableDimension: dimension, MinCapacity: 0, MaxCapacity: 5 }),
    );
    for (let i = 0; i < 60; i++) {
      await autoscaling.send(
        new PutScheduledActionCommand({
          ...resource,
          ScalableDimension: dimension,
          ScheduledActionName: `lambda-policy-controller.ns.p.w${i}.start`,
          Schedule: 'cron(0 8 * * ? *)',
          ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 1 },
        }),
      );
    }
    // The first page's (valid) token is stamped on every later answer: page 2 points back at page 2.
    await breakAnswers(t, [{ api: 'DescribeScheduledActions', kind: 'repeatToken', count: 1000 }]);
    await expect(listOwnedScheduledActions(t.aws, REGION)).rejects.toThrow(
      /DescribeScheduledActions in eu-central-1: .*already sent/,
    );
  });

  it('more pages than the bound: refused with the bound in the message', async () => {
    const t = await harness(160);
    const err = await paginate<ListFunctionsCommandOutput>(t.aws, {
      region: REGION,
      bucket: 'lambda',
      api: 'ListFunctions',
      maxPages: 3,
      send: (c, marker) => c.lambda.send(new ListFunctionsCommand({ MaxItems: 50, Marker: marker })),
      next: (page) => page.NextMarker,
      onPage: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsPaginationError);
    expect((err as Error).message).toMatch(/more than 3 pages/);
    // The same listing without the bound reads all 4 pages.
    expect(await listAllFunctions(t.aws, REGION)).toHaveLength(160);
  });

  it('a page of 300,000 entries is consumed without spreading it into an argument list', async () => {
    const t = await harness(1);
    const huge = Array.from({ length: 300_000 }, () => ({}));
    await breakAnswers(t, [{ api: 'ListFunctions', kind: 'set', path: 'Functions', value: huge }]);
    const listed = await listAllFunctions(t.aws, REGION);
    expect(listed).toHaveLength(300_000);
  });
});
