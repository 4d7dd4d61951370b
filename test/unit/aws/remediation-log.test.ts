/**
 * One info record per AWS write: policy, account, region, function, qualifier, field and `old -> new`, from the
 * plan's drift; nothing for a failed or skipped action; through the real logger in both formats.
 */
import { describe, expect, it } from 'vitest';
import type { ActionOutcome } from '../../../src/aws/executor.ts';
import { logRemediations, remediationRecords } from '../../../src/aws/remediation-log.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { FunctionPlan } from '../../../src/engine/model.ts';
import { createLogger } from '../../../src/shared/log-output.ts';

const ID = 'platform/api-tier';
const RID = 'function:orders-api:live';
const ACTION_NAME = 'lambda-policy-controller.platform.api-tier.business-hours.start';

const config = tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024, timeout: 10 }, 'memorySize', 'timeout');
const provisioned = tag(
  { api: 'PutProvisionedConcurrencyConfig', qualifier: 'live', provisionedConcurrentExecutions: 20 },
  'provisionedConcurrency',
);
const schedule = tag(
  {
    api: 'PutScheduledAction',
    resourceId: RID,
    scheduledActionName: ACTION_NAME,
    schedule: 'cron(0 8 ? * MON-FRI *)',
    timezone: 'Europe/Berlin',
    minCapacity: 20,
    maxCapacity: 20,
  },
  'scheduledActions',
);
const reserved = tag({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 100 }, 'reservedConcurrency');

const plan: FunctionPlan = {
  region: 'eu-central-1',
  name: 'orders-api',
  policies: [ID, 'platform/other'],
  compliant: false,
  drift: [
    { field: 'memorySize', desired: 1024, actual: 512, policy: ID },
    { field: 'timeout', desired: 10, actual: 3, policy: 'platform/other' },
    { field: 'provisionedConcurrency', desired: 20, actual: 5, policy: ID },
    { field: 'scheduledActions', desired: `${ACTION_NAME} cron(0 8 ? * MON-FRI *) 20`, actual: 'absent', policy: ID },
    { field: 'scheduledActions', desired: 'other.end cron(0 19 ? * MON-FRI *) 2', actual: 'absent', policy: ID },
    { field: 'reservedConcurrency', desired: 100, actual: null, policy: ID },
  ],
  actions: [config, provisioned, schedule, reserved],
  refusals: [],
  overridden: [],
  auditDrift: [],
};

const applied = (action: ActionOutcome['action']): ActionOutcome => ({ action, ok: true, status: 'applied' });

describe('remediationRecords', () => {
  it('one record per applied write, with every field it changed and who asked for it', () => {
    const records = remediationRecords(plan, [applied(config)], 'payments-prod');
    expect(records).toEqual([
      {
        fields: {
          policy: `${ID},platform/other`,
          account: 'payments-prod',
          region: 'eu-central-1',
          function: 'orders-api',
          api: 'UpdateFunctionConfiguration',
          field: 'memorySize,timeout',
          change: 'memorySize 512 -> 1024, timeout 3 -> 10',
        },
        msg: 'remediated orders-api: memorySize 512 -> 1024, timeout 3 -> 10',
      },
    ]);
  });

  it('names the qualifier; a schedule write shows its own action only; none is "none"', () => {
    const [pc, sched, res] = remediationRecords(plan, [applied(provisioned), applied(schedule), applied(reserved)]);
    expect(pc?.fields).toMatchObject({ qualifier: 'live', change: 'provisionedConcurrency 5 -> 20' });
    expect(pc?.fields).not.toHaveProperty('account');
    expect(pc?.msg).toBe('remediated orders-api:live: provisionedConcurrency 5 -> 20');
    expect(sched?.fields).toMatchObject({
      qualifier: 'live',
      change: `scheduledActions absent -> ${ACTION_NAME} cron(0 8 ? * MON-FRI *) 20`,
    });
    expect(res?.fields.change).toBe('reservedConcurrency none -> 100');
  });

  it('a failed or skipped action is no remediation', () => {
    const failed: ActionOutcome = { action: config, ok: false, status: 'failed' };
    const skipped: ActionOutcome = { action: provisioned, ok: false, status: 'skipped' };
    expect(remediationRecords(plan, [failed, skipped])).toEqual([]);
  });

  it('an already-applied delete keeps its note', () => {
    const del = tag({ api: 'DeleteFunctionConcurrency' }, 'reservedConcurrency');
    const [record] = remediationRecords(plan, [{ action: del, ok: true, status: 'applied', note: 'already absent' }]);
    expect(record?.fields).toMatchObject({ note: 'already absent', change: 'reservedConcurrency none -> 100' });
  });
});

describe('logRemediations through the logger', () => {
  it('json: level info, the fields as keys; text: one line with old -> new', () => {
    const json: string[] = [];
    const text: string[] = [];
    logRemediations(createLogger({ destination: { write: (s: string) => json.push(s) } }), plan, [applied(config)]);
    logRemediations(createLogger({ format: 'text', destination: { write: (s: string) => text.push(s) } }), plan, [
      applied(config),
    ]);
    expect(JSON.parse(json[0] ?? '')).toMatchObject({
      level: 'info',
      msg: 'remediated orders-api: memorySize 512 -> 1024, timeout 3 -> 10',
      function: 'orders-api',
      field: 'memorySize,timeout',
    });
    expect(text).toHaveLength(1);
    expect(text[0]).toContain(
      'INFO  remediated orders-api: memorySize 512 -> 1024, timeout 3 -> 10 policy=platform/api-tier,platform/other region=eu-central-1 function=orders-api',
    );
  });
});
