import { describe, expect, it } from 'vitest';
import { accountOfKey, workersPerAccount } from '../../../src/controller/manager.ts';

describe('the per-account worker cap', () => {
  it.each([
    [4, undefined, 2],
    [1, undefined, 1],
    [3, undefined, 1],
    [8, undefined, 4],
    [4, 3, 3],
    [4, 9, 4],
  ])('workers=%i, --max-workers-per-account=%s: %i', (workers, max, cap) => {
    expect(workersPerAccount(workers, max)).toBe(cap);
  });

  it('counts fleet keys against their account, the home account included; other keys against none', () => {
    expect(accountOfKey('region/eu-central-1')).toBe('home');
    expect(accountOfKey('fleet/payments-prod/eu-central-1')).toBe('payments-prod');
    expect(accountOfKey('account/payments-prod')).toBeUndefined();
    expect(accountOfKey('scope/team/p')).toBeUndefined();
    expect(accountOfKey('delete/team/p')).toBeUndefined();
  });
});
