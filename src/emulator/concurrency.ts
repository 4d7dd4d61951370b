/**
 * Lambda's concurrency accounting, shared by the Lambda API (Put*Concurrency*) and by scheduled actions firing:
 * the account's unreserved floor, provisioned <= reserved, provisioned only on published versions and aliases.
 */
import { AwsError } from './errors.ts';
import type { FunctionRecord, Store } from './store.ts';
import { lambdaTimestamp, resolveQualifier } from './store.ts';

export function unreservedFloorMessage(floor: number): string {
  return `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${floor}].`;
}

export function checkReservedConcurrency(store: Store, fn: FunctionRecord, value: number): AwsError | undefined {
  const { concurrentExecutions, unreservedFloor } = store.account;
  // With a reservation, the function's provisioned concurrency moves out of the unreserved pool into it.
  const unreservedAfter =
    concurrentExecutions -
    store.reservedTotal(fn.region, fn.name) -
    value -
    store.unreservedProvisioned(fn.region, { name: fn.name });
  if (unreservedAfter < unreservedFloor) {
    return new AwsError('InvalidParameterValueException', 400, unreservedFloorMessage(unreservedFloor), {
      fields: { Type: 'User' },
    });
  }
  const provisioned = provisionedTotal(fn, undefined);
  if (value < provisioned) {
    return new AwsError(
      'InvalidParameterValueException',
      400,
      `Specified ReservedConcurrentExecutions for function is less than the function's total provisioned concurrency [${provisioned}].`,
    );
  }
  return undefined;
}

/** Sum of provisioned concurrency on a function's qualifiers, optionally leaving one out. */
export function provisionedTotal(fn: FunctionRecord, exceptQualifier: string | undefined): number {
  let total = 0;
  for (const [qualifier, config] of fn.provisioned) if (qualifier !== exceptQualifier) total += config.requested;
  return total;
}

export function checkProvisionedConcurrency(
  store: Store,
  fn: FunctionRecord,
  qualifier: string,
  value: number,
): AwsError | undefined {
  if (qualifier === '$LATEST') {
    return new AwsError(
      'InvalidParameterValueException',
      400,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
  }
  if (resolveQualifier(fn, qualifier) === undefined) {
    return new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${qualifier}`);
  }
  const others = provisionedTotal(fn, qualifier);
  if (fn.reservedConcurrency !== undefined) {
    if (others + value > fn.reservedConcurrency) {
      return new AwsError(
        'InvalidParameterValueException',
        400,
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function's total provisioned concurrency.",
      );
    }
    return undefined;
  }
  const { concurrentExecutions, unreservedFloor } = store.account;
  const unreservedAfter =
    concurrentExecutions -
    store.reservedTotal(fn.region) -
    store.unreservedProvisioned(fn.region, { name: fn.name, qualifier }) -
    value;
  if (unreservedAfter < unreservedFloor) {
    return new AwsError(
      'InvalidParameterValueException',
      400,
      `Requested Provisioned Concurrency decreases account's UnreservedConcurrentExecution below its minimum value of [${unreservedFloor}].`,
    );
  }
  return undefined;
}

/** Sets (or with 0 removes) a qualifier's provisioned concurrency; allocation takes `delayMs` on the clock. */
export function setProvisioned(fn: FunctionRecord, qualifier: string, value: number, nowMs: number, delayMs: number) {
  if (value <= 0) {
    fn.provisioned.delete(qualifier);
    return;
  }
  fn.provisioned.set(qualifier, { requested: value, readyAt: nowMs + delayMs, lastModified: lambdaTimestamp(nowMs) });
}
