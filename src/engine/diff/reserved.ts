/** Reserved concurrency, checked against the account's unreserved floor and the function's provisioned total. */
import type { DiffOutput, FieldContext } from './common.ts';
import { describeElsewhere, provisionedElsewhere, refuse, showReserved, tag } from './common.ts';

export function diffReserved(ctx: FieldContext, out: DiffOutput): void {
  const { fn, merged, region } = ctx;
  const res = merged.reservedConcurrency;
  if (res) {
    const actual = fn.reservedConcurrency;
    if (actual === undefined) {
      refuse(out, 'reservedConcurrency', 'NotRead', 'reserved concurrency was not read', res.policy);
    } else {
      const desired = res.value === 'Unreserved' ? null : res.value;
      if (desired !== actual) {
        out.drift.push({
          field: 'reservedConcurrency',
          desired: res.value,
          actual: showReserved(actual),
          policy: res.policy.id,
        });
        const increase = (desired ?? 0) - (actual ?? 0);
        // AWS refuses a reservation below the function's provisioned total; the governed qualifier's own value is
        // the provisioned check's business below (its change is ordered before a shrinking reservation).
        const held = provisionedElsewhere(fn, merged.provisionedConcurrency?.value.qualifier);
        const heldTotal = held.reduce((sum, o) => sum + o.value, 0);
        if (desired !== null && desired < heldTotal) {
          refuse(
            out,
            'reservedConcurrency',
            'ProvisionedExceedsReserved',
            `reserved concurrency ${desired} is below the ${heldTotal} provisioned on ${describeElsewhere(held)}`,
            res.policy,
          );
        } else if (desired === null) {
          out.actions.push(tag({ api: 'DeleteFunctionConcurrency' }, 'reservedConcurrency'));
          ctx.effectiveReserved = null;
        } else if (increase <= 0) {
          out.actions.push(
            tag({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: desired }, 'reservedConcurrency'),
          );
          ctx.effectiveReserved = desired;
        } else if (region.account === undefined || region.unreservedLeft === undefined) {
          refuse(
            out,
            'reservedConcurrency',
            'NotRead',
            `account settings of ${region.region} were not read`,
            res.policy,
          );
        } else if (region.unreservedLeft - increase < region.account.unreservedFloor) {
          refuse(
            out,
            'reservedConcurrency',
            'UnreservedFloor',
            `reserving ${desired} would leave ${region.unreservedLeft - increase} unreserved in ${region.region}, below the minimum of ${region.account.unreservedFloor}`,
            res.policy,
          );
        } else {
          region.unreservedLeft -= increase;
          out.actions.push(
            tag({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: desired }, 'reservedConcurrency'),
          );
          ctx.effectiveReserved = desired;
        }
      }
    }
  }
}
