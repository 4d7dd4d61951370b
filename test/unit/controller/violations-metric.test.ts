/** lpc_policy_violations: functions violating the policy's checks, in line with the settings or not. */
import { describe, expect, it } from 'vitest';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';

async function violations(metrics: ControllerMetrics): Promise<string[]> {
  return (await metrics.render()).body.split('\n').filter((l) => l.startsWith('lpc_policy_violations{'));
}

const violation = { check: 'runtime', actual: 'nodejs16.x', message: 'deprecated' };

describe('lpc_policy_violations', () => {
  it('counts violating in-line functions and drifted ones that also violate; 0 when none; gone with the policy', async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });
    const status = {
      summary: { matched: 4, compliant: 1, drifted: 1, remediated: 0, overridden: 0, failed: 0, violating: 2 },
      functions: [
        { region: 'eu-central-1', name: 'small', state: 'Drifted', violations: [violation] },
        { region: 'eu-central-1', name: 'old-a', state: 'Violating', violations: [violation] },
        { region: 'eu-central-1', name: 'old-b', state: 'Violating', violations: [violation] },
        { region: 'eu-central-1', name: 'fine', state: 'Compliant' },
      ],
    } as unknown as LambdaPolicyStatus;

    metrics.observePolicyStatus('platform/api', status);
    const three = await violations(metrics);
    metrics.observePolicyStatus('platform/api', {
      summary: { matched: 1, compliant: 1, drifted: 0, remediated: 0, overridden: 0, failed: 0 },
      functions: [{ region: 'eu-central-1', name: 'fine', state: 'Compliant' }],
    } as unknown as LambdaPolicyStatus);
    const none = await violations(metrics);
    metrics.forgetPolicy('platform/api');

    expect(three).toEqual(['lpc_policy_violations{policy="platform/api"} 3']);
    expect(none).toEqual(['lpc_policy_violations{policy="platform/api"} 0']);
    expect(await violations(metrics)).toEqual([]);
  });
});
