import { describe, expect, it } from 'vitest';
import type { Checks } from '../../../src/api/schema.ts';
import type { FunctionPlan, ObservedFunction } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { fleet, fn, OPTIONS, policy, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');
const MB = 1024 * 1024;
const LAYER = 'arn:aws:lambda:eu-central-1:123456789012:layer:deps:3';

function planChecks(checks: Checks, f: ObservedFunction, now = NOW, mode: 'Enforce' | 'Audit' = 'Audit'): FunctionPlan {
  const p = plan([policy('platform/checks', { settings: {}, checks, mode })], fleet(region([f])), now, OPTIONS);
  const only = p.functions[0];
  if (!only) throw new Error('function not planned');
  return only;
}

describe('checks: one row per rule and case', () => {
  it.each<[string, Checks, Partial<ObservedFunction>, { check: string; actual: unknown }[]]>([
    ['package within the limit', { maxPackageSizeMB: 3 }, { codeSize: 3 * MB }, []],
    [
      'package above the limit',
      { maxPackageSizeMB: 3 },
      { codeSize: 3 * MB + 1 },
      [{ check: 'maxPackageSizeMB', actual: 3 }],
    ],
    [
      'layers count toward the package',
      { maxPackageSizeMB: 3 },
      { codeSize: 2 * MB, layers: [{ arn: LAYER, codeSize: 1.5 * MB }] },
      [{ check: 'maxPackageSizeMB', actual: 3.5 }],
    ],
    ['Image packages are not sized', { maxPackageSizeMB: 1 }, { packageType: 'Image', codeSize: 0 }, []],
    [
      'runtime deprecated already',
      { runtime: { deprecatedWithinDays: 0 } },
      { runtime: 'nodejs18.x' },
      [{ check: 'runtime', actual: 'nodejs18.x' }],
    ],
    [
      'runtime deprecated within the window',
      { runtime: { deprecatedWithinDays: 180 } },
      { runtime: 'nodejs22.x' },
      [{ check: 'runtime', actual: 'nodejs22.x' }],
    ],
    ['runtime outside the window', { runtime: { deprecatedWithinDays: 140 } }, { runtime: 'nodejs22.x' }, []],
    ['runtime far from deprecation', { runtime: { deprecatedWithinDays: 90 } }, { runtime: 'nodejs24.x' }, []],
    [
      'a runtime the table does not know is not judged',
      { runtime: { deprecatedWithinDays: 90 } },
      { runtime: 'nodejs99.x' },
      [],
    ],
    ['no runtime (Image)', { runtime: { deprecatedWithinDays: 90 } }, { packageType: 'Image' }, []],
    [
      'secret-looking variables: names only',
      { noSecretsInEnvironment: true },
      {
        secretLikeVariables: [
          { name: 'DB_PASSWORD', kind: 'name' },
          { name: 'KEY', kind: 'aws-access-key' },
        ],
      },
      [
        { check: 'noSecretsInEnvironment', actual: 'DB_PASSWORD' },
        { check: 'noSecretsInEnvironment', actual: 'KEY' },
      ],
    ],
    ['no secret-looking variables', { noSecretsInEnvironment: true }, {}, []],
    [
      'variables that could not be decrypted are not passed unseen',
      { noSecretsInEnvironment: true },
      { environmentError: 'KMSAccessDeniedException' },
      [{ check: 'noSecretsInEnvironment', actual: 'not read' }],
    ],
    [
      'DLQ satisfies the destination rule',
      { asyncFailureDestination: 'Required' },
      { deadLetterTarget: 'arn:aws:sqs:eu-central-1:1:dlq' },
      [],
    ],
    [
      'on-failure destination satisfies it',
      { asyncFailureDestination: 'Required' },
      { asyncConfig: { onFailureDestination: 'arn:aws:sqs:eu-central-1:1:q' } },
      [],
    ],
    [
      'neither',
      { asyncFailureDestination: 'Required' },
      { asyncConfig: null },
      [{ check: 'asyncFailureDestination', actual: 'none' }],
    ],
    [
      'a config without on-failure',
      { asyncFailureDestination: 'Required' },
      { asyncConfig: { maximumRetryAttempts: 1 } },
      [{ check: 'asyncFailureDestination', actual: 'none' }],
    ],
    [
      'not read',
      { asyncFailureDestination: 'Required' },
      {},
      [{ check: 'asyncFailureDestination', actual: 'not read' }],
    ],
    [
      'layer lists the architecture',
      { layersSupportArchitecture: true },
      { layers: [{ arn: LAYER, codeSize: 1, compatibleArchitectures: ['x86_64', 'arm64'] }] },
      [],
    ],
    [
      'layer lacks it',
      { layersSupportArchitecture: true },
      { architecture: 'arm64', layers: [{ arn: LAYER, codeSize: 1, compatibleArchitectures: ['x86_64'] }] },
      [{ check: 'layersSupportArchitecture', actual: LAYER }],
    ],
    [
      'layer declares none',
      { layersSupportArchitecture: true },
      { layers: [{ arn: LAYER, codeSize: 1, compatibleArchitectures: [] }] },
      [{ check: 'layersSupportArchitecture', actual: LAYER }],
    ],
    [
      'layer not read',
      { layersSupportArchitecture: true },
      { layers: [{ arn: LAYER, codeSize: 1 }] },
      [{ check: 'layersSupportArchitecture', actual: LAYER }],
    ],
  ])('%s', (_name, checks, over, expected) => {
    const fp = planChecks(checks, fn('f', over));
    expect((fp.violations ?? []).map((v) => ({ check: v.check, actual: v.actual }))).toEqual(expected);
    expect(fp.compliant).toBe(expected.length === 0);
    expect(fp.actions).toEqual([]);
  });

  it('layers must also fit the architecture the policy moves the function to', () => {
    const f = fn('f', { layers: [{ arn: LAYER, codeSize: 1, compatibleArchitectures: ['x86_64'] }] });
    const p = plan(
      [policy('platform/p', { settings: { architecture: 'arm64' }, checks: { layersSupportArchitecture: true } })],
      fleet(region([f])),
      NOW,
      OPTIONS,
    );
    expect(p.functions[0]?.violations?.[0]?.message).toContain('not arm64');
  });

  it('messages say the date and the successor', () => {
    const fp = planChecks(
      { runtime: { deprecatedWithinDays: 200 } },
      fn('f', { runtime: 'nodejs20.x' }),
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(fp.violations?.[0]?.message).toBe(
      'nodejs20.x is deprecated on 2026-04-30 (in 119 days), creates blocked from 2026-06-01, updates blocked from 2026-07-01; move to nodejs24.x',
    );
  });

  it('--now previews: the same function passes before the window reaches the date', () => {
    const f = fn('f', { runtime: 'nodejs22.x' });
    expect(
      planChecks({ runtime: { deprecatedWithinDays: 90 } }, f, new Date('2026-12-01T00:00:00Z')).violations,
    ).toEqual([]);
    expect(
      planChecks({ runtime: { deprecatedWithinDays: 90 } }, f, new Date('2027-02-01T00:00:00Z')).violations,
    ).toHaveLength(1);
  });

  it('a violation makes the function non-compliant, counted as violating, never as drift', () => {
    const p = plan(
      [policy('platform/checks', { settings: {}, checks: { maxPackageSizeMB: 1 } })],
      fleet(region([fn('big', { codeSize: 2 * MB }), fn('small', { codeSize: 10 })])),
      NOW,
      OPTIONS,
    );
    expect(p.summary).toMatchObject({ matched: 2, compliant: 1, drifted: 0, violating: 1 });
    expect(p.policies[0]).toMatchObject({ matched: 2, compliant: 1, drifted: 0, violating: 1 });
  });
});
