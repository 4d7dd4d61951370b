import { describe, expect, it } from 'vitest';
import { type CallEvent, createAws } from '../../../src/aws/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';

describe('createAws', () => {
  it('defaults the regions to AWS_REGION', () => {
    const aws = createAws({ env: { AWS_REGION: 'eu-west-1' } });
    expect(aws.regions).toEqual(['eu-west-1']);
    aws.destroy();
  });

  it('keeps configured regions and rates', () => {
    const aws = createAws({ regions: ['eu-central-1', 'us-east-1'], rates: { lambda: 14 } });
    expect(aws.regions).toEqual(['eu-central-1', 'us-east-1']);
    expect(aws.limiter.rates.lambda).toBe(14);
    expect(aws.limiter.rates['lambda-getfunction']).toBe(80);
    aws.destroy();
  });

  it('counts every call globally, and a scoped view reports only its own calls', async () => {
    const clock = new FakeClock();
    const all: CallEvent[] = [];
    const aws = createAws({ regions: ['eu-central-1'], clock, onCall: (e) => all.push(e) });
    const mine: CallEvent[] = [];
    const scoped = aws.scoped((e) => mine.push(e));
    const spec = { region: 'eu-central-1', bucket: 'tagging' as const, api: 'GetResources' };

    await clock.run(Promise.all([aws.call(spec, async () => 1), scoped.call(spec, async () => 2)]));

    expect(all).toHaveLength(2);
    expect(mine).toHaveLength(1);
    expect(aws.calls.snapshot()).toMatchObject({ total: 2, byBucket: { tagging: 2 }, byApi: { GetResources: 2 } });
    aws.destroy();
  });
});
