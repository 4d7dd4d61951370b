/**
 * The controller end to end: `lambda-policy-controller run` as a child process against a real kube-apiserver and
 * the project's AWS emulator. Policies are applied with kubectl; what AWS looks like afterwards is read from the
 * emulator's state and write log; what users see is read with kubectl.
 *
 * Each test has its own emulator, namespace and controller (`--namespace`), on one control plane per file.
 */
import { ApplicationAutoScalingClient, PutScheduledActionCommand } from '@aws-sdk/client-application-auto-scaling';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LambdaPolicySpec } from '../../../src/api/schema.ts';
import { kstatusOf } from '../../../src/controller/conditions.ts';
import { FINALIZER } from '../../../src/kube/finalizers.ts';
import type { ControlPlane } from '../harness/index.ts';
import { writesOutsideClusterGrants } from '../harness/write-grants.ts';
import {
  applyPolicy,
  condition,
  describeStatus,
  findPolicy,
  getPolicy,
  newNamespace,
  printedPolicies,
  startClusterWithCrd,
  statusOf,
  waitPolicyReady,
  watchPolicy,
} from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { describeWrite, EU, type Fleet, seedFunction, startFleet, US } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
});

afterAll(async () => {
  await cluster?.stop();
});

/** Three API functions across two regions, a canary and two workers the API policy must never touch. */
function shopFleet() {
  return startFleet([
    seedFunction(EU, 'shop-api', {
      tags: { tier: 'api', team: 'shop' },
      reservedConcurrency: 50,
      aliases: [{ name: 'live', version: '2', provisionedConcurrency: 1 }],
    }),
    seedFunction(EU, 'shop-search-api', {
      memorySize: 256,
      timeout: 10,
      architecture: 'arm64',
      tags: { tier: 'api', team: 'search' },
      aliases: [{ name: 'live', version: '1' }],
    }),
    seedFunction(EU, 'shop-api-canary', {
      tags: { tier: 'api', team: 'shop' },
      aliases: [{ name: 'live', version: '1' }],
    }),
    seedFunction(EU, 'shop-worker', { tags: { tier: 'worker', team: 'shop' } }),
    seedFunction(US, 'shop-api', { tags: { tier: 'api', team: 'shop' }, aliases: [{ name: 'live', version: '1' }] }),
    seedFunction(US, 'shop-reports', { memorySize: 128, tags: { tier: 'worker', team: 'shop' } }),
  ]);
}

const MATCHED = [
  [EU, 'shop-api'],
  [EU, 'shop-search-api'],
  [US, 'shop-api'],
] as const;
const NEVER_TOUCHED = ['shop-api-canary', 'shop-worker', 'shop-reports'];

/**
 * A daily one-hour window half a day from now (UTC): no window edge falls inside a test run, so the desired
 * capacity stays at `value`, and the next change is always within the planner's look-ahead.
 */
const windowHour = (new Date().getUTCHours() + 12) % 24;
const apiSpec = (settings: Partial<LambdaPolicySpec['settings']> = {}): LambdaPolicySpec => ({
  mode: 'Enforce',
  interval: '30s',
  selector: { tags: { tier: 'api' }, excludeFunctionNames: ['*-canary'] },
  settings: {
    memorySize: 1024,
    timeout: 10,
    provisionedConcurrency: {
      qualifier: 'live',
      value: 1,
      windows: [{ name: 'evening', start: `0 ${windowHour} * * *`, end: `0 ${(windowHour + 1) % 24} * * *`, value: 2 }],
    },
    ...settings,
  },
});

async function startController(fleet: Fleet, namespace: string): Promise<ControllerProcess> {
  return ControllerProcess.start({
    name: namespace,
    kubeconfig: cluster.kubeconfigPath,
    awsEndpoint: fleet.url,
    namespace,
  });
}

const waitReady = (ns: string, name: string, summary: Record<string, number>, timeoutMs?: number) =>
  waitPolicyReady(cluster, ns, name, summary, timeoutMs);

describe('lambda-policy-controller run', () => {
  it('enforces a policy, re-enforces an edit, corrects out-of-band drift, and cleans up on delete', async () => {
    // Arrange
    const fleet = await shopFleet();
    const ns = await newNamespace(cluster, 'enforce');
    await startController(fleet, ns);
    const ownedPrefix = `lambda-policy-controller.${ns}.api.`;

    const watch = await watchPolicy(cluster, ns, 'api', () =>
      MATCHED.map(([region, name]) => {
        const f = fleet.fn(region, name);
        return `${region}/${name} ${f.memorySize} ${f.timeout} ${f.architecture}`;
      }),
    );
    onTestFinished(() => watch.stop());

    // us-east-1 has a short outage at each change (its ListFunctions fails for a few passes), so for a while only
    // eu-central-1 has been checked at the new generation
    const usOutage = () =>
      fleet.emulator.runtime.faults.configure({
        forced: [{ api: 'ListFunctions', error: 'ServiceException', region: US, count: 15 }],
      });
    usOutage();

    // Act: apply
    await applyPolicy(cluster, ns, 'api', apiSpec());

    // Assert: AWS now matches the policy, and only the matched functions were written to
    const applied = await waitReady(ns, 'api', { matched: 3, compliant: 3, drifted: 0, failed: 0 });
    for (const [region, name] of MATCHED) {
      expect(fleet.fn(region, name), `${region}/${name}`).toMatchObject({ memorySize: 1024, timeout: 10 });
      expect(fleet.provisioned(region, name, 'live'), `${region}/${name}:live`).toBe(1);
    }
    const actions = fleet.scheduledActionsNamed(ownedPrefix);
    expect(actions.map((a) => `${a.resourceId} ${a.name.slice(ownedPrefix.length)}`).sort()).toEqual([
      'function:shop-api:live evening.end',
      'function:shop-api:live evening.end',
      'function:shop-api:live evening.start',
      'function:shop-api:live evening.start',
      'function:shop-search-api:live evening.end',
      'function:shop-search-api:live evening.start',
    ]);
    expect(fleet.fn(EU, 'shop-api-canary').memorySize).toBe(512);
    expect(
      fleet
        .writes()
        .filter((w) => NEVER_TOUCHED.includes(w.function ?? ''))
        .map(describeWrite),
    ).toEqual([]);
    expect(await writesOutsideClusterGrants(cluster, fleet.emulator, { defaultRegions: [EU, US] })).toEqual([]);

    // Assert: status (summary, conditions, per-function entries, schedule) and what kubectl shows
    const status = statusOf(applied);
    expect(status.observedGeneration).toBe(applied.metadata.generation);
    expect(condition(applied, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(condition(applied, 'Reconciling')).toMatchObject({ status: 'False' });
    expect(condition(applied, 'Stalled')).toMatchObject({ status: 'False' });
    expect(condition(applied, 'Compliant')).toMatchObject({
      status: 'True',
      reason: 'Compliant',
      observedGeneration: 1,
    });
    expect(kstatusOf(applied as Parameters<typeof kstatusOf>[0])).toBe('Current');
    expect(status.summary).toMatchObject({ matched: 3, compliant: 3, drifted: 0, overridden: 0, failed: 0 });
    expect(status.summary?.remediated).toBeGreaterThanOrEqual(3);
    expect(status.truncated).toBe(false);
    expect(status.functions?.map((f) => [f.region, f.name])).toEqual(MATCHED.map(([r, n]) => [r, n]));
    for (const f of status.functions ?? []) expect(['Compliant', 'Remediated']).toContain(f.state);
    expect(status.provisionedConcurrency).toMatchObject({ desiredNow: 1, nextChange: { value: 2 } });
    expect(applied.metadata.finalizers).toContain(FINALIZER);
    expect(await printedPolicies(cluster, ns)).toEqual([
      expect.objectContaining({ NAME: 'api', MODE: 'Enforce', MATCHED: '3', DRIFTED: '0', READY: 'True' }),
    ]);

    // Act: edit the policy (more memory, arm64)
    const beforeEdit = fleet.lastWriteSeq();
    usOutage();
    await applyPolicy(cluster, ns, 'api', apiSpec({ memorySize: 2048, architecture: 'arm64' }));

    // Assert: re-enforced at the new generation
    const edited = await waitReady(ns, 'api', { matched: 3, compliant: 3, drifted: 0, failed: 0 });
    expect(edited.metadata.generation).toBe(2);
    expect(condition(edited, 'Ready')?.observedGeneration).toBe(2);
    for (const [region, name] of MATCHED) {
      expect(fleet.fn(region, name), `${region}/${name}`).toMatchObject({ memorySize: 2048, architecture: 'arm64' });
    }
    const editWrites = fleet.writes(beforeEdit);
    expect(editWrites.filter((w) => w.api === 'UpdateFunctionCode').map((w) => `${w.region}/${w.function}`)).toEqual(
      expect.arrayContaining([`${EU}/shop-api`, `${US}/shop-api`]),
    );
    expect(editWrites.filter((w) => NEVER_TOUCHED.includes(w.function ?? '')).map(describeWrite)).toEqual([]);
    expect(await writesOutsideClusterGrants(cluster, fleet.emulator, { defaultRegions: [EU, US] })).toEqual([]);

    // Assert: no status the controller wrote on the way claimed Ready for a generation before AWS matched it
    // (e.g. after checking only one of the policy's two regions, or with a region planned for the old spec)
    const desired: Record<number, string> = { 1: '1024 10 x86_64', 2: '2048 10 arm64' };
    const premature = watch.events.filter((e) => {
      const st = statusOf(e.object);
      const g = e.object.metadata.generation ?? 0;
      if (st.observedGeneration !== g || condition(e.object, 'Ready')?.status !== 'True') return false;
      const searchApi = g === 1 ? '1024 10 arm64' : desired[g];
      const expected = MATCHED.map(([r, n]) => `${r}/${n} ${n === 'shop-search-api' ? searchApi : desired[g]}`);
      return st.summary?.matched !== 3 || JSON.stringify(e.seen) !== JSON.stringify(expected);
    });
    expect(
      premature.map((e) => ({
        generation: e.object.metadata.generation,
        status: describeStatus(e.object),
        aws: e.seen,
      })),
    ).toEqual([]);
    // Assert: while us-east-1 was out, the status said so at each generation, and did not flap between what the
    // healthy region's passes and the failing region's retries would each say
    const states = watch.events
      .map((e) => {
        const ready = condition(e.object, 'Ready');
        return `${e.object.metadata.generation}/${statusOf(e.object).observedGeneration} ${ready?.status} ${ready?.reason}`;
      })
      .filter((state, i, all) => state !== all[i - 1]);
    expect(states, `watch problems: ${watch.problems.join('; ') || 'none'}`).toEqual(
      expect.arrayContaining(['1/1 False AwsUnavailable', '2/2 False AwsUnavailable']),
    );
    expect(
      states.filter((state, i) => states.indexOf(state) < i),
      `states in order: ${states.join(', ')}`,
    ).toEqual([]);
    const unavailable = watch.events
      .map((e) => condition(e.object, 'Ready'))
      .find((c) => c?.reason === 'AwsUnavailable');
    expect(unavailable?.message).toContain(`AWS in ${US}`);

    // Arrange: the controller has confirmed its fixes (the re-check after writes found nothing left to do)
    const settled = await waitFor(
      'the re-check after the edit to confirm (reason Compliant)',
      async () => {
        const p = await getPolicy(cluster, ns, 'api');
        return condition(p, 'Ready')?.reason === 'Compliant' && p;
      },
      { timeoutMs: 60_000 },
    );

    // Act: someone changes a function behind the controller's back (no API call, no event)
    const remediatedBefore = statusOf(settled).summary?.remediated ?? 0;
    const beforeDrift = fleet.lastWriteSeq();
    await fleet.changeBehindTheBack(EU, 'shop-search-api', { memorySize: 512 });

    // Assert: the periodic re-check (interval 30s) finds and corrects it; only that function is written to
    await waitFor(
      'eu-central-1/shop-search-api back at 2048 MB',
      () => fleet.fn(EU, 'shop-search-api').memorySize === 2048,
      { timeoutMs: 60_000, describe: () => `${fleet.fn(EU, 'shop-search-api').memorySize} MB` },
    );
    expect(fleet.writes(beforeDrift).map((w) => `${w.api} ${w.region}/${w.function}`)).toEqual([
      `UpdateFunctionConfiguration ${EU}/shop-search-api`,
    ]);
    const corrected = await waitReady(ns, 'api', { matched: 3, compliant: 3, remediated: remediatedBefore + 1 });
    expect(corrected.metadata.generation).toBe(2);
    const events = await cluster.kubectlJson<{ items: { reason: string; note?: string }[] }>([
      'get',
      'events.events.k8s.io',
      '-n',
      ns,
    ]);
    expect(events.items.map((e) => e.reason)).toContain('Remediated');

    // Arrange: a scheduled action on the same target that the controller did not create
    const autoscaling = new ApplicationAutoScalingClient({
      region: EU,
      endpoint: fleet.url,
      credentials: { accessKeyId: 'platform-team', secretAccessKey: 'x' },
    });
    await autoscaling.send(
      new PutScheduledActionCommand({
        ServiceNamespace: 'lambda',
        ScalableDimension: 'lambda:function:ProvisionedConcurrency',
        ResourceId: 'function:shop-api:live',
        ScheduledActionName: 'platform-team-black-friday',
        Schedule: 'cron(0 6 27 11 ? *)',
        ScalableTargetAction: { MinCapacity: 3 },
      }),
    );
    autoscaling.destroy();

    // Act: delete the policy
    const beforeDelete = fleet.lastWriteSeq();
    await cluster.kubectl(['delete', 'lambdapolicy', 'api', '-n', ns, '--wait=false']);

    // Assert: finalizer released (the object is gone), owned actions removed, everything else left as it was
    await waitFor('the deleted policy to disappear', async () => (await findPolicy(cluster, ns, 'api')) === undefined, {
      timeoutMs: 60_000,
    });
    expect(fleet.scheduledActionsNamed(ownedPrefix)).toEqual([]);
    expect(fleet.scheduledActions(EU).map((a) => a.name)).toContain('platform-team-black-friday');
    const deleteWrites = fleet.writes(beforeDelete).filter((w) => w.accessKeyId !== 'platform-team');
    expect(deleteWrites.map((w) => w.api)).toEqual(Array(6).fill('DeleteScheduledAction'));
    for (const [region, name] of MATCHED) {
      expect(fleet.fn(region, name), `${region}/${name}`).toMatchObject({
        memorySize: 2048,
        timeout: 10,
        architecture: 'arm64',
      });
      expect(fleet.provisioned(region, name, 'live')).toBe(1);
    }
  }, 300_000);

  it('reports Audit drift without writing, and an in-sync fleet causes no AWS writes and no status writes', async () => {
    // Arrange
    const fleet = await shopFleet();
    const ns = await newNamespace(cluster, 'steady');
    const controller = await startController(fleet, ns);
    const workers = ['shop-worker', 'shop-reports'];

    // Act
    await applyPolicy(cluster, ns, 'api', apiSpec());
    await applyPolicy(cluster, ns, 'workers', {
      mode: 'Audit',
      interval: '30s',
      selector: { tags: { tier: 'worker' } },
      settings: { memorySize: 1024, timeout: 60 },
    });

    // Assert: the Audit policy lists each drift; it is Ready (checked) and not Compliant; its functions see no write
    let audit: Awaited<ReturnType<typeof findPolicy>>;
    await waitFor(
      'the Audit policy to report its drift',
      async () => {
        audit = await findPolicy(cluster, ns, 'workers');
        return audit && statusOf(audit).observedGeneration === 1 && statusOf(audit).summary?.matched === 2;
      },
      { timeoutMs: 90_000, describe: () => describeStatus(audit) },
    );
    const auditPolicy = await getPolicy(cluster, ns, 'workers');
    const auditStatus = statusOf(auditPolicy);
    expect(auditStatus.summary).toMatchObject({ matched: 2, compliant: 0, drifted: 2, remediated: 0 });
    expect(condition(auditPolicy, 'Ready')).toMatchObject({ status: 'True', reason: 'Checked', observedGeneration: 1 });
    expect(condition(auditPolicy, 'Compliant')).toMatchObject({
      status: 'False',
      reason: 'Drifted',
      message: '0 of 2 matched functions compliant; 2 drifted',
      observedGeneration: 1,
    });
    expect(kstatusOf(auditPolicy as Parameters<typeof kstatusOf>[0])).toBe('Current');
    // Every entry names its account: the controller's own is `home`.
    expect(auditStatus.functions).toEqual([
      {
        account: 'home',
        region: EU,
        name: 'shop-worker',
        state: 'Drifted',
        drift: [
          { field: 'memorySize', desired: 1024, actual: 512 },
          { field: 'timeout', desired: 60, actual: 30 },
        ],
        message: expect.stringContaining('memorySize'),
      },
      {
        account: 'home',
        region: US,
        name: 'shop-reports',
        state: 'Drifted',
        drift: [
          { field: 'memorySize', desired: 1024, actual: 128 },
          { field: 'timeout', desired: 60, actual: 30 },
        ],
        message: expect.stringContaining('memorySize'),
      },
    ]);
    expect(auditPolicy.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(await printedPolicies(cluster, ns)).toEqual([
      expect.objectContaining({ NAME: 'api', MODE: 'Enforce', MATCHED: '3', DRIFTED: '0', READY: 'True' }),
      expect.objectContaining({
        NAME: 'workers',
        MODE: 'Audit',
        MATCHED: '2',
        DRIFTED: '2',
        READY: 'True',
        COMPLIANT: 'False',
        REASON: 'Drifted',
      }),
    ]);

    // Arrange: the Enforce policy has converged and confirmed it (the re-check after its writes says Compliant)
    await waitReady(ns, 'api', { matched: 3, compliant: 3, drifted: 0 });
    await waitFor(
      'the Enforce policy to confirm its remediation (reason Compliant)',
      async () => condition(await getPolicy(cluster, ns, 'api'), 'Ready')?.reason === 'Compliant',
      { timeoutMs: 60_000 },
    );
    const sinceSeq = fleet.lastWriteSeq();
    const resourceVersions = async () =>
      Promise.all(['api', 'workers'].map(async (n) => (await getPolicy(cluster, ns, n)).metadata.resourceVersion));
    const versionsBefore = await resourceVersions();
    const statusWritesBefore = await controller.metric('lpc_status_writes_total');
    const checksBefore = [fleet.calls(EU, 'ListFunctions'), fleet.calls(US, 'ListFunctions')];

    // Act: let at least three intervals' worth of re-checks happen in each region
    await waitFor(
      'three more re-checks of each region',
      () =>
        fleet.calls(EU, 'ListFunctions') >= (checksBefore[0] ?? 0) + 3 &&
        fleet.calls(US, 'ListFunctions') >= (checksBefore[1] ?? 0) + 3,
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );

    // Assert: nothing was written, neither to AWS nor to the policies
    expect(fleet.writes(sinceSeq).map(describeWrite)).toEqual([]);
    expect(await resourceVersions()).toEqual(versionsBefore);
    expect(await controller.metric('lpc_status_writes_total')).toBe(statusWritesBefore);
    expect(
      fleet
        .writes()
        .filter((w) => workers.includes(w.function ?? ''))
        .map(describeWrite),
    ).toEqual([]);
    expect(fleet.fn(EU, 'shop-worker')).toMatchObject({ memorySize: 512, timeout: 30 });
  }, 360_000);
});
