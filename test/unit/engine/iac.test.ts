import { describe, expect, it } from 'vitest';
import { buildStatus, functionStatusFor } from '../../../src/controller/status.ts';
import {
  detectIacOwner,
  type IacOwnerTag,
  IacOwnerTagsError,
  parseIacOwnerTags,
  templateProperty,
} from '../../../src/engine/iac.ts';
import type { FieldName, PolicyInput } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { fleet, fn, OPTIONS, policy, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');
const CFN = { 'aws:cloudformation:stack-name': 'orders-prod', 'aws:cloudformation:logical-id': 'OrdersFn' };
const TERRAFORM: IacOwnerTag[] = [{ key: 'ManagedBy', value: 'terraform' }, { key: 'pulumi:project' }];

describe('detectIacOwner', () => {
  it.each<[string, Record<string, string>, IacOwnerTag[], string | undefined, string | undefined]>([
    ['CloudFormation (and CDK, Serverless)', CFN, [], 'CloudFormation stack orders-prod', 'AWS::Lambda::Function'],
    [
      'SAM inside a stack',
      { ...CFN, 'lambda:createdBy': 'SAM' },
      [],
      'CloudFormation stack orders-prod',
      'AWS::Serverless::Function',
    ],
    ['SAM tag alone', { 'lambda:createdBy': 'SAM' }, [], 'SAM (tag lambda:createdBy=SAM)', 'AWS::Serverless::Function'],
    [
      'a configured KEY=VALUE (Terraform)',
      { ManagedBy: 'terraform' },
      TERRAFORM,
      'tag ManagedBy=terraform',
      'aws_lambda_function',
    ],
    ['a configured value that differs', { ManagedBy: 'console' }, TERRAFORM, undefined, undefined],
    [
      'a configured key alone matches any value',
      { 'pulumi:project': 'shop' },
      TERRAFORM,
      'tag pulumi:project=shop',
      'the resource that declares the function',
    ],
    ['configured tags are not looked at without configuration', { ManagedBy: 'terraform' }, [], undefined, undefined],
    ['no owner', { team: 'payments' }, TERRAFORM, undefined, undefined],
  ])('%s', (_name, tags, ownerTags, owner, resourceType) => {
    const got = detectIacOwner(tags, ownerTags);
    expect(got?.owner).toBe(owner);
    expect(got?.resourceType).toBe(resourceType);
  });

  it.each<[Record<string, string>, IacOwnerTag[], FieldName, string]>([
    [CFN, [], 'memorySize', 'MemorySize of AWS::Lambda::Function'],
    [{ ...CFN, 'lambda:createdBy': 'SAM' }, [], 'memorySize', 'MemorySize of AWS::Serverless::Function'],
    [{ ManagedBy: 'terraform' }, TERRAFORM, 'memorySize', 'memory_size of aws_lambda_function'],
    [CFN, [], 'reservedConcurrency', 'ReservedConcurrentExecutions of AWS::Lambda::Function'],
    [{ ManagedBy: 'terraform' }, TERRAFORM, 'timeout', 'timeout of aws_lambda_function'],
  ])('names the template property (%j %s)', (tags, ownerTags, field, expected) => {
    const owner = detectIacOwner(tags, ownerTags);
    if (!owner) throw new Error('no owner');
    expect(templateProperty(owner, field)).toBe(expected);
  });
});

describe('parseIacOwnerTags', () => {
  it.each<[string, IacOwnerTag[]]>([
    ['ManagedBy=terraform', [{ key: 'ManagedBy', value: 'terraform' }]],
    [' ManagedBy = terraform , owner ', [{ key: 'ManagedBy', value: 'terraform' }, { key: 'owner' }]],
    ['', []],
  ])('%j', (text, expected) => {
    expect(parseIacOwnerTags(text)).toEqual(expected);
  });

  it.each(['ManagedBy=', '=terraform', 'a'.repeat(129), 'bad key!'])('refuses %j with a clear error', (text) => {
    expect(() => parseIacOwnerTags(text)).toThrow(IacOwnerTagsError);
  });
});

describe('plan with functions owned by infrastructure as code', () => {
  const owned = fn('orders', { memorySize: 128, tags: { ...CFN, team: 'orders' } });
  const free = fn('free', { memorySize: 128, tags: { team: 'orders' } });
  const withMode = (iacManaged?: PolicyInput['iacManaged']): PolicyInput => ({
    ...policy('platform/mem', { selector: { tags: { team: 'orders' } }, settings: { memorySize: 512 } }),
    ...(iacManaged ? { iacManaged } : {}),
  });

  it.each<[string, PolicyInput['iacManaged'], string[], boolean, string]>([
    // name, iacManaged, planned functions, owned function written, its state
    ['Audit (default): reported, not written', undefined, ['free', 'orders'], false, 'IaCManaged'],
    ['Audit explicitly', 'Audit', ['free', 'orders'], false, 'IaCManaged'],
    ['Enforce: fixed like any other', 'Enforce', ['free', 'orders'], true, 'Drifted'],
    ['Skip: left out of the match', 'Skip', ['free'], false, ''],
  ])('%s', (_name, iacManaged, names, written, state) => {
    const p = withMode(iacManaged);
    const planned = plan([p], fleet(region([owned, free])), NOW, OPTIONS);
    expect(planned.functions.map((f) => f.name)).toEqual(names);
    expect(planned.functions.find((f) => f.name === 'free')?.actions.length).toBe(1);
    const fp = planned.functions.find((f) => f.name === 'orders');
    if (!fp) return;
    expect(fp.actions.length > 0).toBe(written);
    const st = functionStatusFor(p.id, 'Enforce', fp, undefined);
    expect(st.state).toBe(state);
    if (state === 'IaCManaged') {
      expect(st.message).toBe(
        'owned by CloudFormation stack orders-prod: not written; change MemorySize of AWS::Lambda::Function to 512 in its template',
      );
      expect(planned.policies[0]).toMatchObject({ matched: 2, drifted: 2 });
    }
  });

  it('a policy whose only drift is IaC-owned is checked (Ready), not Compliant, and never "Remediating" forever', () => {
    const p = withMode();
    const planned = plan([p], fleet(region([owned])), NOW, OPTIONS);
    const status = buildStatus(
      {
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'LambdaPolicy',
        metadata: { name: 'mem', namespace: 'platform', generation: 1 },
        spec: { selector: { tags: { team: 'orders' } }, settings: { memorySize: 512 } },
      },
      planned.policies[0] as (typeof planned.policies)[number],
      planned.functions,
      [],
      undefined,
      NOW,
    );
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    // Ready means checked at this generation; the template's owner, not the controller, fixes the drift.
    expect(ready).toMatchObject({ status: 'True', reason: 'IaCManaged' });
    expect(status.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('False');
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('False');
    expect(status.conditions?.find((c) => c.type === 'Compliant')).toMatchObject({
      status: 'False',
      reason: 'Drifted',
      message:
        '0 of 1 matched functions compliant; 1 drifted (1 owned by infrastructure as code: change their templates)',
    });
    expect(status.summary).toMatchObject({ matched: 1, drifted: 1, iacManaged: 1 });
    expect(status.functions?.[0]?.state).toBe('IaCManaged');
  });
});
