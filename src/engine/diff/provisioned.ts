/**
 * Provisioned concurrency: the scalable target and the owned scheduled actions that carry the schedule, then the
 * provisioned config itself, each checked for what AWS would refuse before anything is written.
 */
import type { BlockAnalysis } from '../block.ts';
import type { MergedSettings } from '../merge.ts';
import type { ObservedFunction, PolicyInput, QualifierReport, ScheduledActionState } from '../model.ts';
import { type DeclaredAction, resourceIdOf } from '../schedule.ts';
import type { DiffOutput, FieldContext, RegionContext } from './common.ts';
import { describeElsewhere, provisionedElsewhere, refuse, tag } from './common.ts';

export function diffProvisioned(ctx: FieldContext, out: DiffOutput): void {
  const { fn, merged, blocks, region } = ctx;
  const owned = region.ownedActionsByFunction.get(fn.name) ?? [];
  const prov = merged.provisionedConcurrency;
  const analysis = prov ? blocks.get(prov.policy.id) : undefined;
  if (prov && analysis) {
    const q = prov.value.qualifier;
    const qs = fn.qualifiers?.[q];
    if (analysis.refusal) {
      refuse(out, 'provisionedConcurrency', analysis.refusal.reason, analysis.refusal.message, prov.policy);
    } else if (qs === undefined) {
      refuse(out, 'provisionedConcurrency', 'NotRead', `qualifier ${q} was not read`, prov.policy);
    } else if (!qs.exists) {
      refuse(out, 'provisionedConcurrency', 'QualifierNotFound', `qualifier ${q} does not exist`, prov.policy);
      out.drift.push({
        field: 'provisionedConcurrency',
        desired: analysis.desiredNow,
        actual: `qualifier ${q} not found`,
        policy: prov.policy.id,
      });
    } else if (qs.servedVersion === '$LATEST') {
      refuse(
        out,
        'provisionedConcurrency',
        'AliasOnLatest',
        `alias ${q} points at $LATEST: AWS keeps provisioned concurrency only on a published version (point ${q} at one)`,
        prov.policy,
      );
    } else if (qs.routingWeights !== undefined && Object.keys(qs.routingWeights).length > 0) {
      const weights = Object.entries(qs.routingWeights)
        .map(([v, w]) => `version ${v} ${Math.round(w * 1000) / 10}%`)
        .join(', ');
      refuse(
        out,
        'provisionedConcurrency',
        'WeightedAlias',
        `alias ${q} routes traffic to a second version (${weights}): AWS refuses provisioned concurrency on a weighted alias`,
        prov.policy,
      );
    } else if ((region.targets.get(resourceIdOf(fn.name, q))?.foreignScalingPolicies ?? []).length > 0) {
      const target = resourceIdOf(fn.name, q);
      const names = region.targets.get(target)?.foreignScalingPolicies ?? [];
      refuse(
        out,
        'provisionedConcurrency',
        'ForeignScalingPolicy',
        `scalable target ${target} has scaling ${names.length === 1 ? 'policy' : 'policies'} ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} the controller did not create: Application Auto Scaling scales it`,
        prov.policy,
      );
    } else if (region.targets.get(resourceIdOf(fn.name, q))?.suspended?.scheduledScaling === true) {
      refuse(
        out,
        'provisionedConcurrency',
        'ScalingSuspended',
        `scheduled scaling of scalable target ${resourceIdOf(fn.name, q)} is suspended (SuspendedState.ScheduledScalingSuspended): not overridden`,
        prov.policy,
      );
    } else if (qs.provisionedStatus === 'FAILED' && qs.provisionedRequested === analysis.desiredNow) {
      // The same value again would fail the same way: reported until someone fixes the function or the value changes.
      refuse(
        out,
        'provisionedConcurrency',
        'ProvisionedFailed',
        `provisioned concurrency ${qs.provisionedRequested} on ${q} FAILED: ${qs.provisionedStatusReason ?? 'no reason given'}`,
        prov.policy,
      );
      out.drift.push({
        field: 'provisionedConcurrency',
        desired: analysis.desiredNow,
        actual: `${qs.provisionedRequested} FAILED`,
        policy: prov.policy.id,
      });
    } else if (ctx.effectiveReserved === undefined) {
      refuse(
        out,
        'provisionedConcurrency',
        'NotRead',
        'reserved concurrency was not read; provisioned must fit in it',
        prov.policy,
      );
    } else if (
      !provisionedFits(fn, q, qs.provisionedRequested, ctx.effectiveReserved, analysis, region, out, prov.policy)
    ) {
      // The refused field still shows what it wants against what it has, like a refused reservation does.
      if (!analysis.inGrace && qs.provisionedRequested !== analysis.desiredNow) {
        out.drift.push({
          field: 'provisionedConcurrency',
          desired: analysis.desiredNow,
          actual: qs.provisionedRequested,
          policy: prov.policy.id,
        });
      }
    } else {
      const resourceId = resourceIdOf(fn.name, q);
      const policy = prov.policy.id;
      const desiredNow = analysis.desiredNow;
      const target = region.targets.get(resourceId);
      const registering = analysis.declared.length > 0 && !target;
      if (registering && region.scalableTargetsLeft !== undefined && region.scalableTargetsLeft <= 0) {
        refuse(
          out,
          'provisionedConcurrency',
          'ScalableTargetQuota',
          `registering scalable target ${resourceId} would exceed Application Auto Scaling's quota of scalable targets in ${region.region}`,
          prov.policy,
        );
        return;
      }
      const wrong = !analysis.inGrace && qs.provisionedRequested !== desiredNow;
      if (registering) {
        if (region.scalableTargetsLeft !== undefined) region.scalableTargetsLeft--;
        out.drift.push({
          field: 'scheduledActions',
          desired: `scalable target ${resourceId}`,
          actual: 'absent',
          policy,
        });
        // Registering moves the current capacity into [min, max] itself: no direct Put to race it.
        out.actions.push(
          tag(
            { api: 'RegisterScalableTarget', resourceId, minCapacity: desiredNow, maxCapacity: desiredNow },
            ...(wrong ? (['scheduledActions', 'provisionedConcurrency'] as const) : (['scheduledActions'] as const)),
          ),
        );
      } else if (
        target &&
        !analysis.inGrace &&
        (wrong || desiredNow < target.minCapacity || desiredNow > target.maxCapacity)
      ) {
        // Application Auto Scaling owns the capacity of a registered target: the range moves, it moves the capacity.
        if (!wrong) {
          out.drift.push({
            field: 'provisionedConcurrency',
            desired: desiredNow,
            actual: `scalable target ${target.minCapacity}..${target.maxCapacity}`,
            policy,
          });
        }
        out.actions.push(
          tag(
            { api: 'RegisterScalableTarget', resourceId, minCapacity: desiredNow, maxCapacity: desiredNow },
            'provisionedConcurrency',
          ),
        );
      }
      const declaredNames = new Set<string>();
      for (const d of analysis.declared) {
        declaredNames.add(d.name);
        const existing = owned.find((a) => a.resourceId === resourceId && a.name === d.name);
        if (existing && sameAction(d, existing)) continue;
        out.drift.push({
          field: 'scheduledActions',
          desired: describeAction(d),
          actual: existing ? describeAction(existing) : 'absent',
          policy,
        });
        out.actions.push(
          tag({ api: 'PutScheduledAction', resourceId, scheduledActionName: d.name, ...pick(d) }, 'scheduledActions'),
        );
      }
      for (const a of owned) {
        if (a.resourceId === resourceId && declaredNames.has(a.name)) continue;
        out.drift.push({ field: 'scheduledActions', desired: 'absent', actual: describeAction(a), policy });
        out.actions.push(
          tag(
            { api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name },
            'scheduledActions',
          ),
        );
      }
      if (wrong) {
        out.drift.push({
          field: 'provisionedConcurrency',
          desired: desiredNow,
          actual: qs.provisionedRequested,
          policy,
        });
      }
      if (wrong && !registering && !target) {
        out.actions.push(
          tag(
            desiredNow > 0
              ? { api: 'PutProvisionedConcurrencyConfig', qualifier: q, provisionedConcurrentExecutions: desiredNow }
              : { api: 'DeleteProvisionedConcurrencyConfig', qualifier: q },
            'provisionedConcurrency',
          ),
        );
      }
    }
  } else if (owned.length > 0) {
    // No Enforce policy declares provisioned concurrency for this function any more: its owned actions go.
    const policy = Object.values(merged).find((w) => w !== undefined)?.policy.id ?? '';
    for (const a of owned) {
      out.drift.push({ field: 'scheduledActions', desired: 'absent', actual: describeAction(a), policy });
      out.actions.push(
        tag(
          { api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name },
          'scheduledActions',
        ),
      );
    }
  }
}

function describeAction(a: {
  name: string;
  schedule: string;
  timezone?: string;
  minCapacity?: number;
  maxCapacity?: number;
}): string {
  const cap = a.minCapacity === a.maxCapacity ? `${a.minCapacity}` : `${a.minCapacity}..${a.maxCapacity}`;
  return `${a.name} ${a.schedule} ${a.timezone ?? 'UTC'} ${cap}`;
}

function sameAction(declared: DeclaredAction, existing: ScheduledActionState): boolean {
  return (
    declared.schedule === existing.schedule &&
    declared.timezone === (existing.timezone || 'UTC') &&
    declared.minCapacity === existing.minCapacity &&
    declared.maxCapacity === existing.maxCapacity
  );
}

/**
 * What AWS checks on PutProvisionedConcurrencyConfig, for every value the schedule will ask for (its maximum):
 *  - with a reservation, the sum over ALL the function's qualifiers must fit in it;
 *  - without one, the function's provisioned concurrency comes out of the account's unreserved pool, which must keep
 *    its floor. GetAccountSettings' UnreservedConcurrentExecutions subtracts reservations only, so the pool is
 *    charged with what this function will hold on all its qualifiers; only a raise can be refused (keeping what AWS
 *    already accepted is always possible), and the charge stays on the region's running `unreservedLeft`, so several
 *    functions in one plan add up (provisioned on functions the plan never read is not known here).
 * Records the refusal and returns false when it does not fit.
 */
function provisionedFits(
  fn: ObservedFunction,
  qualifier: string,
  current: number,
  reserved: number | null,
  analysis: BlockAnalysis,
  ctx: RegionContext,
  out: DiffOutput,
  policy: PolicyInput,
): boolean {
  const others = provisionedElsewhere(fn, qualifier);
  const othersTotal = others.reduce((sum, o) => sum + o.value, 0);
  const onOthers = othersTotal > 0 ? ` plus ${othersTotal} on other qualifiers (${describeElsewhere(others)})` : '';
  const max = analysis.maxValue;
  if (reserved !== null) {
    if (max + othersTotal <= reserved) return true;
    refuse(
      out,
      'provisionedConcurrency',
      'ProvisionedExceedsReserved',
      `provisioned concurrency up to ${max} on ${qualifier}${onOthers} exceeds reserved concurrency ${reserved}`,
      policy,
    );
    return false;
  }
  const raising = max > current;
  if (ctx.account === undefined || ctx.unreservedLeft === undefined) {
    if (!raising) return true;
    refuse(out, 'provisionedConcurrency', 'NotRead', `account settings of ${ctx.region} were not read`, policy);
    return false;
  }
  const drawn = othersTotal + Math.max(current, max);
  const left = ctx.unreservedLeft - drawn;
  if (raising && left < ctx.account.unreservedFloor) {
    // What it holds now still occupies the pool for the functions planned after it.
    ctx.unreservedLeft -= othersTotal + current;
    refuse(
      out,
      'provisionedConcurrency',
      'UnreservedFloor',
      `provisioned concurrency up to ${max} on ${qualifier}${onOthers} would leave ${left} unreserved in ${ctx.region}, below the minimum of ${ctx.account.unreservedFloor}`,
      policy,
    );
    return false;
  }
  ctx.unreservedLeft = left;
  return true;
}

function pick(d: DeclaredAction): { schedule: string; timezone: string; minCapacity: number; maxCapacity: number } {
  return { schedule: d.schedule, timezone: d.timezone, minCapacity: d.minCapacity, maxCapacity: d.maxCapacity };
}

/** Application Auto Scaling's default quota of scalable targets per resource type, account and region. */
export const SCALABLE_TARGET_QUOTA = 500;

/**
 * The governed qualifier's served published version against the policy's memory, timeout and architecture. A
 * version is immutable: a difference is fixed on `$LATEST` (by this plan or already) and reaches the qualifier with
 * the next publish, which is the deployer's to make. Reported only; never an action.
 */
export function pendingPublish(fn: ObservedFunction, merged: MergedSettings): QualifierReport[] {
  const prov = merged.provisionedConcurrency;
  if (!prov) return [];
  const q = prov.value.qualifier;
  const qs = fn.qualifiers?.[q];
  if (!qs?.exists || qs.served === undefined || qs.servedVersion === undefined) return [];
  const fields: QualifierReport['fields'] = [];
  if (merged.memorySize && merged.memorySize.value !== qs.served.memorySize) {
    fields.push({ field: 'memorySize', desired: merged.memorySize.value, served: qs.served.memorySize });
  }
  if (merged.timeout && merged.timeout.value !== qs.served.timeout) {
    fields.push({ field: 'timeout', desired: merged.timeout.value, served: qs.served.timeout });
  }
  if (merged.architecture && merged.architecture.value !== qs.served.architecture) {
    fields.push({ field: 'architecture', desired: merged.architecture.value, served: qs.served.architecture });
  }
  if (fields.length === 0) return [];
  return [{ qualifier: q, state: 'PendingPublish', version: qs.servedVersion, fields, policy: prov.policy.id }];
}
