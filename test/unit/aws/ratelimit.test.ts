import { ServiceException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AwsAccessDeniedError, AwsRetryableError, AwsThrottledError } from '../../../src/aws/errors.ts';
import { type CallEvent, DEFAULT_RATES, RateLimiter, TokenBucket } from '../../../src/aws/ratelimit.ts';
import { FakeClock, flush } from '../../support/fake-clock.ts';

function throttle(retryAfterSeconds?: string): TooManyRequestsException {
  return new TooManyRequestsException({
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 429 },
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}

function serverError(): ServiceException {
  return new ServiceException({ message: 'internal', $metadata: { httpStatusCode: 500 } });
}

/** Records when (fake time) each take() resolved. */
async function takeTimes(bucket: TokenBucket, clock: FakeClock, n: number): Promise<number[]> {
  const start = clock.now();
  const times: number[] = [];
  const all = Array.from({ length: n }, () => bucket.take().then(() => times.push(clock.now() - start)));
  await clock.run(Promise.all(all));
  return times;
}

describe('TokenBucket', () => {
  it('hands out the burst at once, then one token per 1/rate seconds', async () => {
    // Arrange
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 2, clock });

    // Act
    const times = await takeTimes(bucket, clock, 6);

    // Assert
    expect(times).toEqual([0, 0, 100, 200, 300, 400]);
  });

  it('defaults the burst to a fifth of the rate (at least 1)', () => {
    const clock = new FakeClock();
    expect(new TokenBucket({ ratePerSecond: 80, clock }).burst).toBe(16);
    expect(new TokenBucket({ ratePerSecond: 10, clock }).burst).toBe(2);
    expect(new TokenBucket({ ratePerSecond: 3, clock }).burst).toBe(1);
  });

  it('refills while idle but never beyond the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3, clock });
    await takeTimes(bucket, clock, 3);

    await clock.advance(10_000);
    const times = await takeTimes(bucket, clock, 5);

    expect(times).toEqual([0, 0, 0, 100, 200]);
  });

  it('serves waiters in arrival order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 1, clock });
    const order: number[] = [];

    await clock.run(Promise.all([1, 2, 3, 4].map((i) => bucket.take().then(() => order.push(i)))));

    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('pause() (Retry-After) holds every waiter until the pause ends, then resumes at the rate without a burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 5, clock });
    await takeTimes(bucket, clock, 5); // burst spent

    bucket.pause(2_000);
    const times = await takeTimes(bucket, clock, 3);

    expect(times).toEqual([2_100, 2_200, 2_300]);
    expect(bucket.pausedForMs()).toBe(0);
  });

  it('keeps the later end when pauses overlap', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 1, clock });
    bucket.pause(3_000);
    bucket.pause(1_000);
    expect(bucket.pausedForMs()).toBe(3_000);
  });

  it('never exceeds rate * window + burst in any window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 60 }),
        async (rate, burst, n) => {
          const clock = new FakeClock();
          const bucket = new TokenBucket({ ratePerSecond: rate, burst, clock });
          const times = await takeTimes(bucket, clock, n);
          // The k-th token (0-based) can't be handed out before (k - burst + 1) / rate seconds.
          times.forEach((t, k) => {
            expect(t).toBeGreaterThanOrEqual(Math.floor(((k - burst + 1) * 1000) / rate) - 1);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
  });
});

describe('RateLimiter.call', () => {
  const spec = { region: 'eu-central-1', bucket: 'lambda' as const, api: 'ListFunctions' };

  function limiter(clock: FakeClock, events: CallEvent[] = [], random = () => 0.5) {
    return new RateLimiter({ clock, random, onCall: (e) => events.push(e), rates: { lambda: 1000 } });
  }

  it('uses defaults below the AWS quotas and lets them be overridden', () => {
    expect(DEFAULT_RATES).toEqual({ lambda: 10, 'lambda-getfunction': 80, autoscaling: 10, tagging: 10 });
    const l = new RateLimiter({ rates: { tagging: 3 } });
    expect(l.rates.tagging).toBe(3);
    expect(l.rates.lambda).toBe(10);
  });

  it('returns the result and reports one ok event with its duration', async () => {
    const clock = new FakeClock();
    const events: CallEvent[] = [];
    const l = limiter(clock, events);

    const result = await clock.run(
      l.call(spec, async () => {
        await clock.sleep(42);
        return 'done';
      }),
    );

    expect(result).toBe('done');
    expect(events).toEqual([{ ...spec, outcome: 'ok', durationMs: 42, attempt: 1 }]);
  });

  it('backs off with full jitter on throttling without Retry-After, then succeeds', async () => {
    const clock = new FakeClock();
    const events: CallEvent[] = [];
    const l = limiter(clock, events, () => 0.5);
    let calls = 0;

    const result = await clock.run(
      l.call(spec, async () => {
        calls += 1;
        if (calls <= 3) throw throttle();
        return calls;
      }),
    );

    expect(result).toBe(4);
    // base 100 ms: uniform(0, 100), uniform(0, 200), uniform(0, 400) with random = 0.5
    expect(clock.sleeps.filter((ms) => ms >= 50)).toEqual([50, 100, 200]);
    expect(events.map((e) => e.outcome)).toEqual(['throttled', 'throttled', 'throttled', 'ok']);
    expect(events[0]?.error).toBeInstanceOf(AwsThrottledError);
  });

  it('a throttle without Retry-After slows the whole bucket down by the backoff, not only the throttled call', async () => {
    const clock = new FakeClock();
    const l = new RateLimiter({ clock, random: () => 0.5, rates: { lambda: 1000 }, retry: { baseDelayMs: 400 } });
    const start = clock.now();
    let first = true;
    let otherAt = -1;

    const a = l.call(spec, async () => {
      if (first) {
        first = false;
        throw throttle();
      }
    });
    await flush();
    const b = l.call(spec, async () => {
      otherAt = clock.now() - start;
    });
    await clock.run(Promise.all([a, b]));

    // uniform(0, 400) with random = 0.5 -> 200 ms pause for everyone
    expect(otherAt).toBeGreaterThanOrEqual(200);
  });

  it('caps the backoff ceiling at maxDelayMs', () => {
    const l = new RateLimiter({ random: () => 0.999999, retry: { baseDelayMs: 100, maxDelayMs: 1_000 } });
    expect(l.backoffMs(0)).toBe(99);
    expect(l.backoffMs(10)).toBe(999);
  });

  it('honours Retry-After by pausing the whole bucket, so other callers wait too', async () => {
    const clock = new FakeClock();
    const l = limiter(clock);
    const start = clock.now();
    let first = true;
    const finished: Record<string, number> = {};

    const a = l.call(spec, async () => {
      if (first) {
        first = false;
        throw throttle('3');
      }
      finished.a = clock.now() - start;
    });
    await flush();
    const b = l.call(spec, async () => {
      finished.b = clock.now() - start;
    });
    await clock.run(Promise.all([a, b]));

    expect(finished.a).toBeGreaterThanOrEqual(3_000);
    expect(finished.b).toBeGreaterThanOrEqual(3_000);
    expect(l.bucket(spec.region, 'lambda').pausedForMs()).toBe(0);
  });

  it('gives up after maxThrottledAttempts and throws AwsThrottledError', async () => {
    const clock = new FakeClock();
    const l = new RateLimiter({ clock, random: () => 0, retry: { maxThrottledAttempts: 4 } });
    let calls = 0;

    const failure = clock.run(
      l.call(spec, async () => {
        calls += 1;
        throw throttle();
      }),
    );

    await expect(failure).rejects.toBeInstanceOf(AwsThrottledError);
    expect(calls).toBe(4);
  });

  it('retries 5xx a bounded number of times', async () => {
    const clock = new FakeClock();
    const events: CallEvent[] = [];
    const l = new RateLimiter({ clock, random: () => 0, retry: { maxAttempts: 3 }, onCall: (e) => events.push(e) });
    let calls = 0;

    const failure = clock.run(
      l.call(spec, async () => {
        calls += 1;
        throw serverError();
      }),
    );

    await expect(failure).rejects.toBeInstanceOf(AwsRetryableError);
    expect(calls).toBe(3);
    expect(events.map((e) => [e.outcome, e.attempt])).toEqual([
      ['error', 1],
      ['error', 2],
      ['error', 3],
    ]);
  });

  it('retries network errors and then succeeds', async () => {
    const clock = new FakeClock();
    const l = limiter(clock);
    let calls = 0;

    const result = await clock.run(
      l.call(spec, async () => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return 'ok';
      }),
    );

    expect(result).toBe('ok');
    expect(calls).toBe(2);
  });

  it('never retries AccessDenied', async () => {
    const clock = new FakeClock();
    const l = limiter(clock);
    let calls = 0;

    const failure = clock.run(
      l.call(spec, async () => {
        calls += 1;
        throw Object.assign(new Error('not authorized'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        });
      }),
    );

    await expect(failure).rejects.toBeInstanceOf(AwsAccessDeniedError);
    expect(calls).toBe(1);
  });

  it('paces calls per region and bucket independently', async () => {
    const clock = new FakeClock();
    const l = new RateLimiter({ clock, rates: { lambda: 1 }, bursts: { lambda: 1 } });
    const start = clock.now();
    const at: string[] = [];
    const call = (region: string) =>
      l.call({ region, bucket: 'lambda', api: 'X' }, async () => {
        at.push(`${region}@${clock.now() - start}`);
      });

    await clock.run(Promise.all([call('eu-central-1'), call('us-east-1'), call('eu-central-1')]));

    expect(at).toEqual(['eu-central-1@0', 'us-east-1@0', 'eu-central-1@1000']);
  });

  it('a throwing onCall hook does not break the call', async () => {
    const clock = new FakeClock();
    const l = new RateLimiter({
      clock,
      onCall: () => {
        throw new Error('metrics down');
      },
    });
    await expect(clock.run(l.call(spec, async () => 7))).resolves.toBe(7);
  });
});
