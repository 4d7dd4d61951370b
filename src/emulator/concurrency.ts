/**
 * Lambda's concurrency accounting, shared by the Lambda API (Put*Concurrency*) and by scheduled actions firing:
 * the account's unreserved floor, provisioned <= reserved, provisioned only on published versions and aliases.
 */
import { AwsError } from './errors.ts';
import type { FunctionRecord, ProvisionedRecord, Store } from './store.ts';
import { lambdaTimestamp, provisionedStatus, resolveQualifier } from './store.ts';

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
  const resolved = resolveQualifier(fn, qualifier);
  if (resolved === undefined) {
    return new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${qualifier}`);
  }
  // An alias is only as published as the version it points at.
  if (resolved === '$LATEST') {
    return new AwsError(
      'InvalidParameterValueException',
      400,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
  }
  const weights = fn.aliases.get(qualifier)?.routingWeights;
  if (weights !== undefined && Object.keys(weights).length > 0) {
    return new AwsError(
      'InvalidParameterValueException',
      400,
      'Alias with weights can not be used with Provisioned Concurrency',
    );
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

/**
 * Sets (or with 0 removes) a qualifier's provisioned concurrency; allocation takes `delayMs` on the clock and ends
 * READY, or FAILED with `failReason` (an injected failure).
 */
export function setProvisioned(
  fn: FunctionRecord,
  qualifier: string,
  value: number,
  nowMs: number,
  delayMs: number,
  failReason?: string,
) {
  if (value <= 0) {
    fn.provisioned.delete(qualifier);
    return;
  }
  const record: ProvisionedRecord = {
    requested: value,
    readyAt: nowMs + delayMs,
    lastModified: lambdaTimestamp(nowMs),
  };
  if (failReason !== undefined) record.failReason = failReason;
  fn.provisioned.set(qualifier, record);
}

/** AWS refuses a Put while the qualifier's previous allocation is still IN_PROGRESS. */
export function provisionedConflict(fn: FunctionRecord, qualifier: string, nowMs: number): AwsError | undefined {
  const record = fn.provisioned.get(qualifier);
  if (record === undefined || provisionedStatus(record, nowMs) !== 'IN_PROGRESS') return undefined;
  return new AwsError(
    'ResourceConflictException',
    409,
    'A previous request is being processed. Please try again shortly',
    {
      fields: { Type: 'User' },
    },
  );
}
