import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationSyntaxError, parseGoDuration } from '../../../src/api/duration.ts';

describe('parseGoDuration', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5m', 90],
    ['90s', 90],
    ['250ms', 0.25],
    ['1h0m0s', 3600],
    ['.5s', 0.5],
    ['0', 0],
    ['-1m', -60],
    ['1us', 0.000001],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseGoDuration(text)).toBe(seconds);
  });

  it.each(['', '5', '5 m', '1d', 'm', '.s', '1h-5m', 'PT5M'])('refuses %j', (text) => {
    expect(() => parseGoDuration(text)).toThrow(DurationSyntaxError);
  });

  it('reads back what h/m/s formatting writes', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => {
        return parseGoDuration(`${h}h${m}m${s}s`) === h * 3600 + m * 60 + s;
      }),
    );
  });
});
