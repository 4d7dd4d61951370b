/**
 * The preflight's AWS reads (`lambda-policy-controller doctor`): one cheap call of every read API the controller
 * depends on, per region, with the credentials the controller would use. Each probe records whether AWS answered
 * and, if not, the typed error; nothing is written. What the answers mean (which governed fields are readable, is
 * there concurrency headroom) is decided by the pure report in src/cli/doctor-report.ts.
 *
 * Per region: ListFunctions (one item: also yields a sample function), tagging GetResources, Application Auto
 * Scaling DescribeScalableTargets + DescribeScheduledActions + DescribeScalingPolicies, GetAccountSettings; then, on
 * the sample function, GetFunction (reserved concurrency, a served version), ListProvisionedConcurrencyConfigs and
 * ListAliases (provisioned concurrency). The identity
 * is STS GetCallerIdentity in the home region.
 */
import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  GetFunctionCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
} from '@aws-sdk/client-lambda';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { RegionAccount } from '../engine/model.ts';
import type { Aws } from './context.ts';
import { type AwsErrorCode, classifyAwsError } from './errors.ts';
import { LAMBDA_NAMESPACE, readAccount } from './inventory.ts';
import { type CallerIdentity, callerIdentity } from './sts.ts';

/** The read APIs the preflight probes, named as the SDK operation. */
export const PREFLIGHT_APIS = [
  'ListFunctions',
  'GetResources',
  'DescribeScalableTargets',
  'DescribeScheduledActions',
  'DescribeScalingPolicies',
  'GetAccountSettings',
  'GetFunction',
  'ListProvisionedConcurrencyConfigs',
  'ListAliases',
] as const;
export type PreflightApi = (typeof PREFLIGHT_APIS)[number];

export interface ProbeError {
  code: AwsErrorCode;
  /** The AWS error code, e.g. `AccessDeniedException`. */
  awsCode: string | undefined;
  message: string;
}

export type ProbeOutcome =
  | { api: PreflightApi; status: 'ok' }
  | { api: PreflightApi; status: 'failed'; error: ProbeError }
  /** Not called: e.g. a per-function read in a region without functions. */
  | { api: PreflightApi; status: 'skipped'; reason: string };

export interface RegionPreflight {
  region: string;
  probes: ProbeOutcome[];
  /** GetAccountSettings' answer, when it came. */
  account?: RegionAccount;
  /** The function the per-function reads were tried on (the first ListFunctions returned). */
  sampleFunction?: string;
}

export interface PreflightResult {
  homeRegion: string;
  identity: { ok: true; identity: CallerIdentity } | { ok: false; error: ProbeError };
  regions: RegionPreflight[];
}

function probeError(err: unknown, api: string): ProbeError {
  const error = classifyAwsError(err, api);
  return { code: error.code, awsCode: error.awsCode, message: error.message };
}

async function probe<T>(
  api: PreflightApi,
  send: () => Promise<T>,
): Promise<{ outcome: ProbeOutcome; value: T | undefined }> {
  try {
    return { outcome: { api, status: 'ok' }, value: await send() };
  } catch (err) {
    return { outcome: { api, status: 'failed', error: probeError(err, api) }, value: undefined };
  }
}

async function probeRegion(aws: Aws, region: string): Promise<RegionPreflight> {
  const [list, tags, targets, actions, policies, settings] = await Promise.all([
    probe('ListFunctions', () =>
      aws.call({ region, bucket: 'lambda', api: 'ListFunctions' }, (c) =>
        c.lambda.send(new ListFunctionsCommand({ MaxItems: 1 })),
      ),
    ),
    probe('GetResources', () =>
      aws.call({ region, bucket: 'tagging', api: 'GetResources' }, (c) =>
        c.tagging.send(new GetResourcesCommand({ ResourceTypeFilters: ['lambda:function'], ResourcesPerPage: 1 })),
      ),
    ),
    probe('DescribeScalableTargets', () =>
      aws.call({ region, bucket: 'autoscaling', api: 'DescribeScalableTargets' }, (c) =>
        c.autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: LAMBDA_NAMESPACE, MaxResults: 1 })),
      ),
    ),
    probe('DescribeScheduledActions', () =>
      aws.call({ region, bucket: 'autoscaling', api: 'DescribeScheduledActions' }, (c) =>
        c.autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: LAMBDA_NAMESPACE, MaxResults: 1 })),
      ),
    ),
    probe('DescribeScalingPolicies', () =>
      aws.call({ region, bucket: 'autoscaling', api: 'DescribeScalingPolicies' }, (c) =>
        c.autoscaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: LAMBDA_NAMESPACE, MaxResults: 1 })),
      ),
    ),
    probe('GetAccountSettings', () => readAccount(aws, region)),
  ]);
  const sample = list.value?.Functions?.[0]?.FunctionName;
  const perFunction: ProbeOutcome[] = [];
  if (sample === undefined) {
    const reason = list.outcome.status === 'ok' ? 'no function in the region' : 'ListFunctions failed';
    perFunction.push({ api: 'GetFunction', status: 'skipped', reason });
    perFunction.push({ api: 'ListProvisionedConcurrencyConfigs', status: 'skipped', reason });
    perFunction.push({ api: 'ListAliases', status: 'skipped', reason });
  } else {
    const [fn, provisioned, aliases] = await Promise.all([
      probe('GetFunction', () =>
        aws.call({ region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
          c.lambda.send(new GetFunctionCommand({ FunctionName: sample })),
        ),
      ),
      probe('ListProvisionedConcurrencyConfigs', () =>
        aws.call({ region, bucket: 'lambda', api: 'ListProvisionedConcurrencyConfigs' }, (c) =>
          c.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: sample, MaxItems: 1 })),
        ),
      ),
      probe('ListAliases', () =>
        aws.call({ region, bucket: 'lambda', api: 'ListAliases' }, (c) =>
          c.lambda.send(new ListAliasesCommand({ FunctionName: sample, MaxItems: 1 })),
        ),
      ),
    ]);
    perFunction.push(fn.outcome, provisioned.outcome, aliases.outcome);
  }
  return {
    region,
    probes: [
      list.outcome,
      tags.outcome,
      targets.outcome,
      actions.outcome,
      policies.outcome,
      settings.outcome,
      ...perFunction,
    ],
    ...(settings.value ? { account: settings.value } : {}),
    ...(sample !== undefined ? { sampleFunction: sample } : {}),
  };
}

/** Probes the identity in `homeRegion` and every region's read APIs, regions in parallel. Never throws for AWS. */
export async function runPreflight(aws: Aws, regions: readonly string[], homeRegion: string): Promise<PreflightResult> {
  const [identity, regionResults] = await Promise.all([
    callerIdentity(aws, homeRegion).then(
      (id) => ({ ok: true as const, identity: id }),
      (err: unknown) => ({ ok: false as const, error: probeError(err, 'GetCallerIdentity') }),
    ),
    Promise.all(regions.map((region) => probeRegion(aws, region))),
  ]);
  return { homeRegion, identity, regions: regionResults };
}
