/**
 * One pass over a fleet: read what the policies need (in bulk), plan with the pure engine, and — when enforcing —
 * execute the plan. Shared by `apply`, `plan`, the controller's reconcile loop and the demo, so every entry point
 * reads, decides and writes the same way.
 */
import {
  type Aws,
  type ExecutePlanOptions,
  executePlan,
  type FleetRead,
  type FunctionExecution,
  readFleet,
} from '../aws/index.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import type { ObservedFunction, Plan, PolicyInput, RuntimeTable } from '../engine/model.ts';
import { plan as planFleet } from '../engine/plan.ts';
import { requiredReads } from '../engine/requirements.ts';
import { gateRollout, haltedBy, type RolloutHalt, type RolloutOptions } from '../engine/rollout.ts';
import { regionsOf } from '../engine/select.ts';

export interface PassOptions {
  /** Regions of policies without `selector.regions`. */
  defaultRegions: string[];
  /** Evaluate windows at this instant (default: now). */
  now?: Date | undefined;
  /** Execute the plan's actions (apply/controller) or only report (plan/Audit-only). */
  enforce: boolean;
  /** Restrict the pass to these regions (the controller reconciles one region per key). */
  onlyRegions?: string[] | undefined;
  execute?: ExecutePlanOptions | undefined;
  /**
   * Asked once the plan is made, before the first write: false skips executing (a leader that lost its Lease while
   * the pass read AWS must not write). Default: always true.
   */
  mayWrite?: (() => boolean) | undefined;
  readConcurrency?: number | undefined;
  /** The runtime table of checks.runtime (default: the shipped one). */
  runtimes?: RuntimeTable | undefined;
  /** The blast-radius guard: default percentage, approvals, halted rollouts (default: no default guard). */
  rollout?: RolloutOptions | undefined;
  /** Tags that mark a function as owned by infrastructure as code (beyond CloudFormation's and SAM's). */
  iacOwnerTags?: readonly IacOwnerTag[] | undefined;
  /** Asked with the gated plan before the first write (the CLI's guard and prompt); false writes nothing. */
  approveWrites?: ((plan: Plan) => Promise<boolean>) | undefined;
  /** Told, per region, how many per-function reads the pass will make once selection is done (progress bars). */
  onReadsPlanned?: (region: string, reads: number) => void;
  /** The account's scope: functions it rejects are invisible (never read in detail, matched or written). */
  visible?: ((fn: ObservedFunction) => boolean) | undefined;
  /** Policies refused this fleet (grant refused or revoked): the scheduled actions they own are left in place. */
  refusedOwners?: ReadonlySet<string> | undefined;
}

export interface PassResult {
  /** The plan as gated by the rollout guard: held-back actions removed, `rollout` on the policies' reports. */
  plan: Plan;
  fleet: FleetRead;
  /** Empty when not enforcing or nothing needed doing. */
  executions: FunctionExecution[];
  /** Rollouts this pass's failed batches halted (policy id -> where it stopped). */
  halted: Map<string, RolloutHalt>;
}

export async function reconcileFleet(
  aws: Aws,
  policies: readonly PolicyInput[],
  options: PassOptions,
): Promise<PassResult> {
  const active = policies.filter((p) => !p.suspend);
  let regions = regionsOf(active, options.defaultRegions);
  if (options.onlyRegions) regions = regions.filter((r) => options.onlyRegions?.includes(r));
  const visible = options.visible;
  const read = await readFleet(
    aws,
    regions,
    (region, listed) => {
      const functions = visible ? listed.filter(visible) : listed;
      const requirements = requiredReads(active, region, functions, options.defaultRegions);
      // GetFunction where reserved is governed; one ListProvisionedConcurrencyConfigs per function for all its
      // governed qualifiers (a qualifier without a config may take one more GetFunction: the bar caps at full)
      const reads = requirements.reduce(
        (n, r) => n + (r.reservedConcurrency ? 1 : 0) + (r.qualifiers.length > 0 ? 1 : 0),
        0,
      );
      options.onReadsPlanned?.(region, reads);
      return requirements;
    },
    options.readConcurrency === undefined ? {} : { concurrency: options.readConcurrency },
  );
  const fleet = visible
    ? { ...read, regions: read.regions.map((r) => ({ ...r, functions: r.functions.filter(visible) })) }
    : read;
  const now = options.now ?? new Date();
  const gated = gateRollout(
    planFleet(policies, fleet, now, {
      defaultRegions: options.defaultRegions,
      iacOwnerTags: options.iacOwnerTags,
      refusedOwners: options.refusedOwners,
      ...(options.runtimes ? { runtimes: options.runtimes } : {}),
    }),
    active,
    options.rollout,
  );
  const writing =
    options.enforce && (options.mayWrite?.() ?? true) && ((await options.approveWrites?.(gated.plan)) ?? true);
  const executions = writing ? await executePlan(aws, gated.plan, fleet, options.execute) : [];
  return { plan: gated.plan, fleet, executions, halted: haltedBy(gated, active, executions) };
}
