import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../../src/aws/concurrency.ts';
import { scalableTargetResourceId, unqualifiedArn, unreservedFloor } from '../../../src/aws/inventory.ts';

describe('unqualifiedArn', () => {
  it.each([
    [
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
    ],
    [
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api:live',
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
    ],
    [
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api:3',
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
    ],
  ])('%s', (arn, expected) => {
    expect(unqualifiedArn(arn)).toBe(expected);
  });
});

describe('unreservedFloor', () => {
  it.each([
    [1000, 100],
    [100, 100],
    [50, 50],
    [10, 10],
    [0, 0],
  ])('account limit %i -> floor %i', (limit, floor) => {
    expect(unreservedFloor(limit)).toBe(floor);
  });
});

describe('scalableTargetResourceId', () => {
  it('is function:NAME:QUALIFIER', () => {
    expect(scalableTargetResourceId('orders-api', 'live')).toBe('function:orders-api:live');
  });
});

describe('mapConcurrent', () => {
  it('keeps order and never exceeds the limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (items, limit) => {
          let inFlight = 0;
          let peak = 0;
          const out = await mapConcurrent(items, limit, async (x) => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            await Promise.resolve();
            inFlight -= 1;
            return x * 2;
          });
          expect(out).toEqual(items.map((x) => x * 2));
          expect(peak).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});
