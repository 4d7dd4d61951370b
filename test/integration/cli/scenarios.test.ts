/**
 * `apply`/`plan` in the situations AWS makes hard: asynchronous updates, conflicts and throttling, architecture
 * changes (Zip re-sent, Image refused), what AWS would reject (refused before writing), and provisioned
 * concurrency schedules carried by Application Auto Scaling across a window edge on the emulator's clock.
 */
import { LambdaClient, PutProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeedFunction } from '../../../src/emulator/index.ts';
import { awsArgs, expectGolden, fixture, parsePlan, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGION = 'eu-central-1';
const TUNE = fixture('scenarios/tune.yaml');

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

function zipFn(name: string, extra: Partial<SeedFunction> = {}): SeedFunction {
  return { name, region: REGION, memorySize: 512, timeout: 30, architecture: 'x86_64', packageType: 'Zip', ...extra };
}

async function apiLog(e: TestEmulator): Promise<string[]> {
  return (await e.writes()).map((w) => `${w.api}:${w.ok ? 'ok' : w.error}`);
}

describe('asynchronous updates', () => {
  it('waits out LastUpdateStatus InProgress (300 ms per update, and one already running) and converges', async () => {
    // Arrange: every update stays InProgress for 300 ms; fn-busy is mid-update when apply starts
    emu = await startTestEmulator({ functions: [zipFn('fn-a'), zipFn('fn-busy')] }, { updateDelayMs: 300 });
    await emu.admin('POST', `functions/${REGION}/fn-busy`, { lastUpdateStatus: 'InProgress', inProgressMs: 500 });
    const sha = emu.functionState(REGION, 'fn-a').codeSha256;

    // Act
    const result = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: each write accepted first time (the CLI waited instead of colliding), the fleet compliant
    expect(result.code).toBe(0);
    const log = await emu.writes();
    expect(log.filter((w) => !w.ok)).toEqual([]);
    for (const name of ['fn-a', 'fn-busy']) {
      expect(log.filter((w) => w.function === name).map((w) => w.api)).toEqual([
        'UpdateFunctionConfiguration',
        'UpdateFunctionCode',
        'PutFunctionConcurrency',
      ]);
      expect(emu.functionState(REGION, name)).toMatchObject({
        memorySize: 1024,
        timeout: 10,
        architecture: 'arm64',
        reservedConcurrency: 20,
        lastUpdateStatus: 'Successful',
      });
    }
    expect(emu.functionState(REGION, 'fn-a').codeSha256).toBe(sha);
    expect(parsePlan(result.stdout).after?.summary).toMatchObject({ matched: 2, compliant: 2 });
  });
});

describe('conflicts and throttling are absorbed', () => {
  it('a forced ResourceConflictException and 429s with Retry-After (a write and a read) still end compliant', async () => {
    // Arrange
    emu = await startTestEmulator({ functions: [zipFn('fn-a')] });
    await emu.admin('POST', 'faults', {
      forced: [
        { api: 'UpdateFunctionConfiguration', error: 'ResourceConflictException' },
        { api: 'PutFunctionConcurrency', error: 'TooManyRequestsException', retryAfterSeconds: 1 },
        { api: 'ListFunctions', error: 'TooManyRequestsException', retryAfterSeconds: 1 },
      ],
    });

    // Act
    const result = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: every fault was met (and logged), each write retried once, the function compliant
    expect(result.code).toBe(0);
    expect(await apiLog(emu)).toEqual([
      'UpdateFunctionConfiguration:ResourceConflictException',
      'UpdateFunctionConfiguration:ok',
      'UpdateFunctionCode:ok',
      'PutFunctionConcurrency:TooManyRequestsException',
      'PutFunctionConcurrency:ok',
    ]);
    // Retry-After was honoured: the retry came at least the 1 s the 429 asked for after it (a lower bound only)
    const puts = (await emu.writes()).filter((w) => w.api === 'PutFunctionConcurrency');
    expect(Date.parse(puts[1]?.time ?? '') - Date.parse(puts[0]?.time ?? '')).toBeGreaterThanOrEqual(1000);
    const calls = await emu.admin<{ faulted: { byApi: Record<string, number> } }>('GET', 'calls');
    expect(calls.faulted.byApi).toEqual({
      ListFunctions: 1,
      UpdateFunctionConfiguration: 1,
      PutFunctionConcurrency: 1,
    });
    expect(emu.functionState(REGION, 'fn-a')).toMatchObject({
      memorySize: 1024,
      timeout: 10,
      architecture: 'arm64',
      reservedConcurrency: 20,
    });
    const doc = parsePlan(result.stdout);
    expect(doc.executions?.map((e) => e.ok)).toEqual([true]);
    // Throttling is not an error of the run: nothing about it on stdout's JSON, exit 0
    expect(doc.after?.summary).toMatchObject({ compliant: 1, drifted: 0 });
  });
});

describe('an update AWS accepts but then fails', () => {
  it('apply reports it (exit 1: a write failed; ok: false with the error) and the next apply finishes the job', async () => {
    // Arrange: the first UpdateFunctionConfiguration ends LastUpdateStatus Failed (old configuration kept)
    emu = await startTestEmulator({ functions: [zipFn('fn-a', { architecture: 'arm64', reservedConcurrency: 20 })] });
    await emu.admin('POST', 'faults', {
      failUpdates: [{ api: 'UpdateFunctionConfiguration', function: 'fn-a', reason: 'EniLimitExceeded' }],
    });

    // Act
    const first = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);
    const second = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);

    // Assert
    expect(first.code).toBe(1);
    const execution = parsePlan(first.stdout).executions?.[0];
    expect(execution).toMatchObject({ name: 'fn-a', ok: false });
    expect(execution?.outcomes[0]).toMatchObject({ api: 'UpdateFunctionConfiguration', status: 'failed' });
    expect(JSON.stringify(execution?.outcomes[0])).toContain('EniLimitExceeded');
    expect(second.code).toBe(0);
    expect(emu.functionState(REGION, 'fn-a')).toMatchObject({ memorySize: 1024, timeout: 10 });
  });
});

describe('architecture changes', () => {
  it('Zip: UpdateFunctionCode re-sends the same code with the new architecture (CodeSha256 unchanged)', async () => {
    emu = await startTestEmulator({
      functions: [zipFn('fn-zip', { memorySize: 1024, timeout: 10, reservedConcurrency: 20 })],
    });
    const before = emu.functionState(REGION, 'fn-zip');

    const result = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.code).toBe(0);
    const log = await emu.writes();
    expect(log.map((w) => w.api)).toEqual(['UpdateFunctionCode']);
    expect(log[0]).toMatchObject({ function: 'fn-zip', params: { Architectures: ['arm64'] } });
    expect(log[0]?.params.ZipFile).toEqual({ bytes: expect.any(Number) });
    const after = emu.functionState(REGION, 'fn-zip');
    expect(after.architecture).toBe('arm64');
    expect(after.codeSha256).toBe(before.codeSha256);
  });

  it('Image: refused with reason ImageArchitecture, reported, never written (exit 2)', async () => {
    emu = await startTestEmulator({
      functions: [
        {
          name: 'fn-image',
          region: REGION,
          memorySize: 1024,
          timeout: 10,
          architecture: 'x86_64',
          packageType: 'Image',
          reservedConcurrency: 20,
        },
      ],
    });

    const plan = await runCli(['plan', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);
    const apply = await runCli(['apply', '-f', TUNE, '-o', 'json', ...awsArgs(emu.url)]);

    expect(plan.code).toBe(2);
    const fn = parsePlan(plan.stdout).functions[0];
    expect(fn).toMatchObject({
      name: 'fn-image',
      compliant: false,
      drift: [{ field: 'architecture', desired: 'arm64', actual: 'x86_64', policy: 'ops/tune' }],
      actions: [],
      refusals: [{ field: 'architecture', reason: 'ImageArchitecture', policy: 'ops/tune' }],
    });
    expect(parsePlan(plan.stdout).summary).toMatchObject({ matched: 1, infeasible: 1 });
    expect(apply.code).toBe(2);
    expect(parsePlan(apply.stdout).executions).toEqual([]);
    expect(await emu.writes()).toEqual([]);
    expect(emu.functionState(REGION, 'fn-image').architecture).toBe('x86_64');
  });
});

describe('what AWS would reject is refused before writing', () => {
  it('reserved below the unreserved floor and provisioned above reserved: refusals in JSON, no writes, exit 2', async () => {
    emu = await startTestEmulator(fixture('infeasible-fleet.yaml'));
    const policies = fixture('scenarios/infeasible.yaml');

    const plan = await runCli(['plan', '-f', policies, '-o', 'json', ...awsArgs(emu.url)]);
    const apply = await runCli(['apply', '-f', policies, '-o', 'json', ...awsArgs(emu.url)]);
    const table = await runCli(['plan', '-f', policies, '-o', 'table', ...awsArgs(emu.url)]);

    expect(plan.code).toBe(2);
    await expectGolden(plan.stdout, 'infeasible.expected.json');
    const doc = parsePlan(plan.stdout);
    expect(doc.functions.map((f) => [f.name, f.actions, f.refusals.map((r) => `${r.field}:${r.reason}`)])).toEqual([
      ['greedy', [], ['reservedConcurrency:UnreservedFloor']],
      ['warm', [], ['provisionedConcurrency:ProvisionedExceedsReserved']],
    ]);
    expect(apply.code).toBe(2);
    expect(parsePlan(apply.stdout).executions).toEqual([]);
    expect(await emu.writes()).toEqual([]);
    expect(emu.functionState(REGION, 'greedy').reservedConcurrency).toBeNull();
    expect(emu.functionState(REGION, 'warm').provisioned).toEqual([]);
    expect(table.stdout).toContain(
      'x eu-central-1/greedy  (capacity/reserve)\n    x reservedConcurrency  Unreserved -> 150  (refused, UnreservedFloor:',
    );
    // The refused provisioned concurrency keeps its drift entry (desired against actual), like a refused reservation
    expect(table.stdout).toContain(
      'x eu-central-1/warm  (capacity/warm)\n    x provisionedConcurrency  0 -> 10  (refused, ProvisionedExceedsReserved:',
    );
    expect(table.stdout).toMatch(/^problem: capacity\/warm: ProvisionedExceedsReserved on 1 function/m);
    expect(table.stdout).toContain('Plan: 0 to change, 0 to report, 2 refused, 0 compliant, of 2 functions\n');
  });

  it('provisioned on another alias counts against the reservation: refused with the reason, no write; the feasible plan applies', async () => {
    // Arrange: `shared` reserves 10 and its `blue` alias holds 5; `roomy` (no reservation) holds 850 on `live`
    emu = await startTestEmulator({
      accountConcurrency: 1000,
      functions: [
        zipFn('shared', {
          reservedConcurrency: 10,
          aliases: [
            { name: 'blue', version: '1', provisionedConcurrency: 5 },
            { name: 'live', version: '2' },
          ],
        }),
        zipFn('roomy', { aliases: [{ name: 'live', version: '1', provisionedConcurrency: 850 }] }),
      ],
    });
    const refused = fixture('scenarios/other-alias-refused.yaml');

    // Act
    const plan = await runCli(['plan', '-f', refused, '-o', 'json', ...awsArgs(emu.url)]);
    const apply = await runCli(['apply', '-f', refused, '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: both refused with the reason AWS would give, nothing written
    expect(plan.code).toBe(2);
    const doc = parsePlan(plan.stdout);
    expect(doc.functions.map((f) => [f.name, f.actions, f.refusals.map((r) => `${r.field}:${r.reason}`)])).toEqual([
      ['roomy', [], ['provisionedConcurrency:UnreservedFloor']],
      ['shared', [], ['provisionedConcurrency:ProvisionedExceedsReserved']],
    ]);
    const shared = doc.functions.find((f) => f.name === 'shared');
    expect(shared?.refusals[0]?.message).toBe(
      'provisioned concurrency up to 8 on live plus 5 on other qualifiers (blue: 5) exceeds reserved concurrency 10',
    );
    expect(shared?.drift).toEqual([
      { field: 'provisionedConcurrency', desired: 8, actual: 0, policy: 'capacity/warm' },
    ]);
    expect(doc.functions.find((f) => f.name === 'roomy')?.refusals[0]?.message).toBe(
      'provisioned concurrency up to 950 on live would leave 40 unreserved in eu-central-1, below the minimum of 100',
    );
    expect(apply.code).toBe(2);
    expect(parsePlan(apply.stdout).executions).toEqual([]);
    expect(await emu.writes()).toEqual([]);

    // AWS (the emulator) agrees: the very writes the planner refused are rejected when sent anyway
    const lambda = new LambdaClient({
      region: REGION,
      endpoint: emu.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    for (const [name, value] of [
      ['shared', 8],
      ['roomy', 950],
    ] as const) {
      await expect(
        lambda.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName: name,
            Qualifier: 'live',
            ProvisionedConcurrentExecutions: value,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    }
    lambda.destroy();
    await emu.admin('DELETE', 'writes');

    // Act: the feasible version of the wish (reservation 20)
    const allowed = await runCli([
      'apply',
      '-f',
      fixture('scenarios/other-alias-allowed.yaml'),
      '-o',
      'json',
      ...awsArgs(emu.url),
    ]);

    // Assert: reservation first, then the provisioned config; every write accepted; compliant afterwards
    expect(allowed.code).toBe(0);
    expect(await apiLog(emu)).toEqual(['PutFunctionConcurrency:ok', 'PutProvisionedConcurrencyConfig:ok']);
    const after = emu.functionState(REGION, 'shared');
    expect(after.reservedConcurrency).toBe(20);
    expect(after.provisioned.map((p) => [p.qualifier, p.requested])).toEqual([
      ['blue', 5],
      ['live', 8],
    ]);
    expect(parsePlan(allowed.stdout).after?.summary).toMatchObject({ matched: 1, compliant: 1, infeasible: 0 });
  });
});

describe('provisioned concurrency schedules', () => {
  const SCHEDULE = fixture('scenarios/schedule.yaml');
  const AFTER_EDGE = '2026-12-01T17:05:00Z'; // 18:05 in Berlin: five minutes after the window closed

  it('creates the owned scheduled actions; the emulator clock crossing the window edge changes the qualifier', async () => {
    // Arrange: 10:00 in Berlin, inside the business window
    emu = await startTestEmulator({
      functions: [zipFn('fn-sched', { reservedConcurrency: 50, aliases: [{ name: 'live', version: '1' }] })],
    });

    // Act: apply at 10:00 Berlin
    const applied = await runCli(['apply', '-f', SCHEDULE, '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: scalable target, both edges as scheduled actions with our names, cron and time zone; 10 provisioned
    // by registering the target (Application Auto Scaling moves the capacity; no direct Put races it)
    expect(applied.code).toBe(0);
    expect((await emu.writes()).map((w) => w.api)).toEqual([
      'RegisterScalableTarget',
      'PutScheduledAction',
      'PutScheduledAction',
    ]);
    const region = emu.regionState(REGION);
    expect(region.scalableTargets).toEqual([
      { resourceId: 'function:fn-sched:live', minCapacity: 10, maxCapacity: 10 },
    ]);
    expect(
      region.scheduledActions.map((a) => [a.name, a.resourceId, a.schedule, a.timezone, a.minCapacity, a.maxCapacity]),
    ).toEqual(
      expect.arrayContaining([
        [
          'lambda-policy-controller.web.peak.business.start',
          'function:fn-sched:live',
          'cron(0 8 ? * MON-FRI *)',
          'Europe/Berlin',
          10,
          10,
        ],
        [
          'lambda-policy-controller.web.peak.business.end',
          'function:fn-sched:live',
          'cron(0 18 ? * MON-FRI *)',
          'Europe/Berlin',
          2,
          2,
        ],
      ]),
    );
    expect(region.scheduledActions).toHaveLength(2);
    expect(emu.functionState(REGION, 'fn-sched').provisioned).toEqual([
      expect.objectContaining({ qualifier: 'live', requested: 10 }),
    ]);

    // Before the clock moves, a plan for 18:05 sees what is still to happen
    const early = await runCli(['plan', '-f', SCHEDULE, '-o', 'json', ...awsArgs(emu.url, AFTER_EDGE)]);
    expect(early.code).toBe(2);
    expect(parsePlan(early.stdout).functions[0]?.drift).toContainEqual({
      field: 'provisionedConcurrency',
      desired: 2,
      actual: 10,
      policy: 'web/peak',
    });

    // Act: the emulator clock crosses the window's end (Application Auto Scaling fires, not the controller)
    await emu.admin('DELETE', 'writes');
    const moved = await emu.admin<{ fired: number }>('POST', 'clock', { now: AFTER_EDGE });

    // Assert: the end action fired and brought the qualifier down to the block value
    expect(moved.fired).toBe(1);
    expect(emu.functionState(REGION, 'fn-sched').provisioned).toEqual([
      expect.objectContaining({ qualifier: 'live', requested: 2 }),
    ]);
    expect(emu.regionState(REGION).scalableTargets).toEqual([
      { resourceId: 'function:fn-sched:live', minCapacity: 2, maxCapacity: 2 },
    ]);
    const state = await emu.admin<{ firings: { action: string; provisioned?: number; error?: string }[] }>(
      'GET',
      'state',
    );
    expect(state.firings).toEqual([
      expect.objectContaining({ action: 'lambda-policy-controller.web.peak.business.end', provisioned: 2 }),
    ]);
    expect(state.firings[0]?.error).toBeUndefined();

    // And a plan at the new instant is compliant with nothing to do; the controller wrote nothing for the edge
    const later = await runCli(['plan', '-f', SCHEDULE, '-o', 'json', ...awsArgs(emu.url, AFTER_EDGE)]);
    expect(later.code).toBe(0);
    const doc = parsePlan(later.stdout);
    expect(doc.functions.flatMap((f) => f.actions)).toEqual([]);
    expect(doc.policies[0]).toMatchObject({
      provisionedConcurrency: { desiredNow: 2, nextChange: { at: '2026-12-02T07:00:00Z', value: 10 } },
    });
    expect(await emu.writes()).toEqual([]);
  });
});
