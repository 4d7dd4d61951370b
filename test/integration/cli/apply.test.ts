/**
 * `apply` end to end on the purpose-made fleet: the emulator ends compliant, its write log holds exactly the
 * writes the plan needed (none for unmatched or Audit-only functions), and a second plan/apply is a no-op.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  awsArgs,
  fixture,
  parsePlan,
  REPO,
  runCli,
  startTestEmulator,
  type TestEmulator,
  type WriteEntry,
} from './harness.ts';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

/** `region/function`, whether the write named the function or an Application Auto Scaling resource id. */
function target(w: WriteEntry): string {
  const name = w.function ?? w.resourceId?.split(':')[1] ?? '?';
  return `${w.region}/${name}`;
}

/** Writes grouped per function in log order (calls on one function are sequential; functions run in parallel). */
function writesPerFunction(log: readonly WriteEntry[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const w of [...log].sort((a, b) => a.seq - b.seq)) {
    const key = target(w);
    out[key] = [...(out[key] ?? []), w.api];
  }
  return out;
}

const PROVISIONED_SETUP = ['RegisterScalableTarget', 'PutScheduledAction', 'PutScheduledAction'];

describe('apply against the purpose-made fleet', () => {
  it('makes exactly the needed writes, converges, and a second plan/apply does nothing', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const shaBefore = emu.functionState('eu-central-1', 'api-orders').codeSha256;

    // Act: apply
    const applied = await runCli(['apply', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: the write log holds exactly the plan's writes, each accepted, nothing for unmatched/Audit-only
    const log = await emu.writes();
    expect(log.filter((w) => !w.ok)).toEqual([]);
    // Registering a target moves the capacity itself: no PutProvisionedConcurrencyConfig races it.
    expect(writesPerFunction(log)).toEqual({
      'eu-central-1/api-big': ['UpdateFunctionConfiguration', ...PROVISIONED_SETUP],
      'eu-central-1/api-orders': [
        'UpdateFunctionConfiguration',
        'UpdateFunctionCode',
        'PutFunctionConcurrency',
        ...PROVISIONED_SETUP,
      ],
      'us-east-1/api-orders': ['PutFunctionConcurrency', ...PROVISIONED_SETUP],
      'us-east-1/batch-nightly': ['UpdateFunctionConfiguration', 'DeleteFunctionConcurrency'],
    });

    // The only drift left is the Audit policy's (never enforced): apply reports it with exit 2.
    expect(applied.code).toBe(2);
    const doc = parsePlan(applied.stdout);
    expect(doc.executions?.every((e) => e.ok)).toBe(true);
    expect(doc.after?.functions.flatMap((f) => f.actions)).toEqual([]);
    expect(
      doc.after?.functions.filter((f) => !f.compliant).map((f) => [f.region, f.name, f.drift, f.auditDrift]),
    ).toEqual([
      [
        'us-east-1',
        'worker-slow',
        [],
        [
          { field: 'timeout', desired: 60, actual: 120, policy: 'team-b/workers' },
          { field: 'architecture', desired: 'arm64', actual: 'x86_64', policy: 'team-b/workers' },
        ],
      ],
    ]);
    expect(applied.stderr).toMatch(/^re-checking after apply: /m);

    // Assert: the emulator's state is what the policies declare
    const euOrders = emu.functionState('eu-central-1', 'api-orders');
    expect(euOrders).toMatchObject({ memorySize: 1024, timeout: 10, architecture: 'arm64', reservedConcurrency: 20 });
    // Zip architecture change: the same code re-sent (CodeSha256 unchanged), only the architecture moved
    expect(euOrders.codeSha256).toBe(shaBefore);
    const codeWrite = log.find((w) => w.api === 'UpdateFunctionCode');
    expect(codeWrite?.params).toMatchObject({ Architectures: ['arm64'], ZipFile: { bytes: expect.any(Number) } });
    expect(emu.functionState('eu-central-1', 'api-big')).toMatchObject({ memorySize: 2048, timeout: 10 });
    expect(emu.functionState('us-east-1', 'api-orders')).toMatchObject({ reservedConcurrency: 20 });
    expect(emu.functionState('us-east-1', 'batch-nightly')).toMatchObject({ timeout: 900, reservedConcurrency: null });
    for (const [region, name] of [
      ['eu-central-1', 'api-orders'],
      ['eu-central-1', 'api-big'],
      ['us-east-1', 'api-orders'],
    ] as const) {
      expect(emu.functionState(region, name).provisioned).toEqual([
        expect.objectContaining({ qualifier: 'live', requested: 5 }),
      ]);
      const actions = emu.regionState(region).scheduledActions.filter((a) => a.resourceId === `function:${name}:live`);
      expect(actions.map((a) => [a.name, a.schedule, a.timezone, a.minCapacity, a.maxCapacity]).sort()).toEqual([
        ['lambda-policy-controller.team-a.api.business.end', 'cron(0 18 ? * MON-FRI *)', 'Europe/Berlin', 1, 1],
        ['lambda-policy-controller.team-a.api.business.start', 'cron(0 8 ? * MON-FRI *)', 'Europe/Berlin', 5, 5],
      ]);
    }
    // Untouched: the excluded canary, the unmatched functions and the Audit-only workers
    expect(emu.functionState('eu-central-1', 'api-orders-canary')).toMatchObject({ memorySize: 512, timeout: 30 });
    expect(emu.functionState('us-east-1', 'worker-slow')).toMatchObject({ timeout: 120, architecture: 'x86_64' });

    // Act: someone fixes the Audit finding by hand; then plan again
    await emu.admin('POST', 'functions/us-east-1/worker-slow', { timeout: 60, architecture: 'arm64' });
    const replan = await runCli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: compliant, zero actions, exit 0
    expect(replan.code).toBe(0);
    const again = parsePlan(replan.stdout);
    expect(again.functions.flatMap((f) => f.actions)).toEqual([]);
    expect(again.summary).toMatchObject({ matched: 6, compliant: 6, drifted: 0, infeasible: 0 });

    // Act: a second apply
    await emu.admin('DELETE', 'writes');
    const reapply = await runCli(['apply', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    // Assert: nothing to do, nothing written
    expect(reapply.code).toBe(0);
    expect(parsePlan(reapply.stdout).executions).toEqual([]);
    expect(await emu.writes()).toEqual([]);
  });

  it('-o table reports what was applied and what is left', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const result = await runCli(['apply', '-f', fixture('policies'), '-o', 'table', ...awsArgs(emu.url)]);

    expect(result.code).toBe(2);
    expect(result.stdout).toContain('applied 16 changes to 4 functions; 0 failed\n');
    expect(result.stdout).toContain('after apply: 5/6 compliant, 1 drifted, 0 infeasible\n');
    expect(result.stdout).not.toContain('re-checking');
  });
});

describe('apply against examples/fleet.yaml with examples/policies', () => {
  it('writes only where the plan had actions, then only Audit drift is left', async () => {
    // Arrange
    emu = await startTestEmulator(`${REPO}/examples/fleet.yaml`);
    const policies = `${REPO}/examples/policies`;
    const planned = parsePlan((await runCli(['plan', '-f', policies, '-o', 'json', ...awsArgs(emu.url)])).stdout);
    const withActions = planned.functions.filter((f) => f.actions.length > 0).map((f) => `${f.region}/${f.name}`);

    // Act: the example policies change more than the default guard allows: apply refuses, then --approve
    const refused = await runCli(['apply', '-f', policies, '-o', 'json', ...awsArgs(emu.url)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused: platform\/[a-z-]+: would change \d+ of \d+ matched functions/);
    expect(refused.stderr).toContain('re-run apply with --approve');
    expect(await emu.writes()).toEqual([]);
    const stopped = planned.policies.filter((p) => p.rollout?.stopped).map((p) => p.name);
    expect(stopped.length).toBeGreaterThan(0);
    const applied = await runCli(['apply', '-f', policies, '-o', 'json', '--approve', ...awsArgs(emu.url)]);

    // Assert: one write per planned action, all accepted, on exactly the functions that had actions
    const log = await emu.writes();
    expect(log.filter((w) => !w.ok)).toEqual([]);
    expect(log).toHaveLength(planned.functions.reduce((n, f) => n + f.actions.length, 0));
    expect(Object.keys(writesPerFunction(log)).sort()).toEqual([...withActions].sort());
    // Never a write to a function only the Audit policy matches, nor to one no policy matches
    const listed = new Set(planned.functions.map((f) => `${f.region}/${f.name}`));
    const auditOnly = planned.functions
      .filter((f) => f.drift.length === 0 && f.auditDrift.length > 0)
      .map((f) => `${f.region}/${f.name}`);
    expect(auditOnly.length).toBeGreaterThan(0);
    for (const w of log) {
      expect(listed.has(target(w))).toBe(true);
      expect(auditOnly).not.toContain(target(w));
    }
    expect(applied.code).toBe(2);
    const after = parsePlan(applied.stdout).after;
    expect(after?.functions.flatMap((f) => f.actions)).toEqual([]);
    // What is left is Audit drift, and drift the planner refuses to fix (an x86-only layer blocks one arm64 move).
    const unfixable = (f: NonNullable<typeof after>['functions'][number]) =>
      f.drift.every((d) => f.refusals.some((r) => r.field === d.field));
    expect(after?.functions.filter((f) => !f.compliant).every(unfixable)).toBe(true);
    expect(after?.functions.flatMap((f) => f.refusals.map((r) => `${f.name}:${r.reason}`))).toEqual([
      'payments-webhooks:LayerArchitecture',
    ]);
  });
});
