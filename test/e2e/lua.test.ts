/**
 * The Argo CD health check tests (chart/health.test.ts) need a real Lua 5.1 and skip themselves without one; this
 * test makes `npm test` fail, saying how to install it, instead of passing with those tests silently left out.
 */
import { describe, expect, it } from 'vitest';
import { luaAvailable } from './chart/support/lua.ts';

describe('lua5.1 for the Argo CD health check tests', () => {
  it('is installed (apt-get install -y lua5.1), so the health.lua tests ran', () => {
    expect(
      luaAvailable(),
      'lua5.1 is not installed: the Argo CD health.lua tests did not run. Install it with `apt-get install -y lua5.1`.',
    ).toBe(true);
  });
});
