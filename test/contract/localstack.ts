/**
 * How LocalStack's core (4.12, run without Docker) departs from AWS on the Lambda control plane; each key is a row
 * of docs/emulator-vs-moto.md's LocalStack table and is pinned by test/e2e/contract/localstack.test.ts.
 */
export type LocalStackDifference =
  /** A function never becomes Active: it stays Pending or ends Failed (InternalError), as no runtime can start. */
  | 'functionsNeverActive'
  /** UpdateFunctionConfiguration/Code answer 500 InternalError; whether the change was stored varies. */
  | 'updatesAnswerInternalError'
  /** PutProvisionedConcurrencyConfig on a published version or alias answers 500 ("Could not find version"). */
  | 'provisionedNeedsRunningVersion';

export const LOCALSTACK_DIFFERENCES: ReadonlySet<LocalStackDifference> = new Set<LocalStackDifference>([
  'functionsNeverActive',
  'updatesAnswerInternalError',
  'provisionedNeedsRunningVersion',
]);
