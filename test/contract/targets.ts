/**
 * The two AWS peers the contract suite runs against: the project's emulator and moto (someone else's reading of
 * the AWS API). Each target knows how to start, reset and stop itself, and which documented differences from AWS
 * it has (docs/emulator-vs-moto.md): a contract test asserts AWS's behaviour unless the target declares the
 * difference, in which case it asserts the target's known behaviour, so a change on either side is noticed.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { type Emulator, emulatorAdmin, startEmulator } from '../../src/emulator/index.ts';
import { createMotoLambdaRole, type MotoServer, startMoto } from '../e2e/harness/moto.ts';

/** Keys of docs/emulator-vs-moto.md's table: each is one way a target departs from AWS. */
export type Difference =
  /** ListFunctions returns every function in one page; MaxItems/Marker are ignored. */
  | 'listFunctionsNotPaged'
  /** ListFunctions items carry State and LastUpdateStatus (AWS leaves them out). */
  | 'listFunctionsIncludesState'
  /** MemorySize/Timeout out of range are accepted instead of ValidationException. */
  | 'noRangeValidation'
  /** An update answers LastUpdateStatus Successful at once (AWS: InProgress). */
  | 'updatesCompleteImmediately'
  /** UpdateFunctionCode ignores Architectures. */
  | 'codeIgnoresArchitectures'
  /** DeregisterScalableTarget of an unknown target is ValidationException (AWS: ObjectNotFoundException). */
  | 'deregisterUnknownIsValidation'
  /** DeregisterScalableTarget keeps the target's scheduled actions (AWS deletes them). */
  | 'deregisterKeepsActions'
  /** DeleteScheduledAction of an unknown action succeeds (AWS: ObjectNotFoundException). */
  | 'deleteUnknownActionSucceeds'
  /** PutScheduledAction accepts any schedule and timezone text and a target that is not registered. */
  | 'noScheduleValidation'
  /** RegisterScalableTarget accepts a function or qualifier that does not exist. */
  | 'registerUnknownFunction'
  /** DescribeScheduledActions ignores MaxResults and returns everything. */
  | 'scheduledActionsNotPaged'
  /** LoggingConfig is neither stored nor returned nor validated (levels with Text are accepted). */
  | 'noLoggingConfig'
  /** DeadLetterConfig is accepted but not returned in function views. */
  | 'deadLetterConfigNotReturned'
  /** UpdateFunctionConfiguration ignores TracingConfig. */
  | 'updateIgnoresTracing'
  /** GetLayerVersionByArn is not implemented. */
  | 'noGetLayerVersionByArn'
  /** EventInvokeConfig FunctionArn of the unqualified function has no :$LATEST. */
  | 'eventInvokeUnqualifiedArn'
  /** Update/ListFunctionEventInvokeConfig(s) answer a LastModified the SDK cannot parse. */
  | 'eventInvokeBadTimestamps'
  /** MaximumEventAgeInSeconds below 60 is accepted. */
  | 'eventAgeMinimumNotValidated'
  /** PutRetentionPolicy accepts any number of days. */
  | 'retentionNotValidated'
  /** RegisterScalableTarget accepts a 501st target in the region (AWS: LimitExceededException at the quota). */
  | 'noScalableTargetQuota'
  /** ListVersionsByFunction returns every version in one page; MaxItems/Marker are ignored. */
  | 'listVersionsNotPaged';

export interface ContractTarget {
  readonly name: 'emulator' | 'moto';
  readonly region: string;
  readonly lambda: LambdaClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly logs: CloudWatchLogsClient;
  /** An IAM role ARN CreateFunction accepts on this target. */
  readonly role: string;
  differs(difference: Difference): boolean;
  /** Forget every resource (between tests). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const ROLE_NAME = 'contract-lambda-role';
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE_NAME}`;

export const MOTO_DIFFERENCES: ReadonlySet<Difference> = new Set<Difference>([
  'listFunctionsNotPaged',
  'listFunctionsIncludesState',
  'noRangeValidation',
  'updatesCompleteImmediately',
  'codeIgnoresArchitectures',
  'deregisterUnknownIsValidation',
  'deregisterKeepsActions',
  'deleteUnknownActionSucceeds',
  'noScheduleValidation',
  'registerUnknownFunction',
  'scheduledActionsNotPaged',
  'noLoggingConfig',
  'deadLetterConfigNotReturned',
  'updateIgnoresTracing',
  'noGetLayerVersionByArn',
  'eventInvokeUnqualifiedArn',
  'eventInvokeBadTimestamps',
  'eventAgeMinimumNotValidated',
  'retentionNotValidated',
  'noScalableTargetQuota',
  'listVersionsNotPaged',
]);

function clients(endpoint: string) {
  const config = {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
  return {
    lambda: new LambdaClient(config),
    autoscaling: new ApplicationAutoScalingClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

export async function emulatorTarget(): Promise<ContractTarget> {
  const emulator: Emulator = await startEmulator({ port: 0 });
  const c = clients(emulator.url);
  return {
    name: 'emulator',
    region: REGION,
    ...c,
    role: ROLE_ARN,
    differs: () => false,
    async reset() {
      await emulatorAdmin(emulator.url, 'POST', 'seed', {});
    },
    stop: () => emulator.stop(),
  };
}

export async function motoTarget(): Promise<ContractTarget> {
  // LPC_MOTO_BIN_DIR lets a developer use a moto_server outside the pinned cache (hack/ensure-test-infra.sh).
  const binDir = process.env.LPC_MOTO_BIN_DIR;
  const moto: MotoServer = await startMoto({ region: REGION, ...(binDir ? { binDir } : {}) });
  const c = clients(moto.url);
  await createMotoLambdaRole(moto.url, ROLE_NAME, REGION);
  return {
    name: 'moto',
    region: REGION,
    ...c,
    role: ROLE_ARN,
    differs: (difference) => MOTO_DIFFERENCES.has(difference),
    async reset() {
      await moto.reset();
      await createMotoLambdaRole(moto.url, ROLE_NAME, REGION);
    },
    stop: () => moto.stop(),
  };
}

export const TARGETS: readonly { name: ContractTarget['name']; start: () => Promise<ContractTarget> }[] = [
  { name: 'emulator', start: emulatorTarget },
  { name: 'moto', start: motoTarget },
];
