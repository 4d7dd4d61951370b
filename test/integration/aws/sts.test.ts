import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerIdentity } from '../../../src/aws/index.ts';
import { type Harness, startHarness } from './harness.ts';

describe('callerIdentity', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ seed: { accountId: '210987654321' } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers with the account the endpoint serves, using the dummy credentials', async () => {
    const id = await callerIdentity(h.aws, 'eu-central-1');
    expect(id.account).toBe('210987654321');
    expect(id.arn).toContain('210987654321');
  });
});
