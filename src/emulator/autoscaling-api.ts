/**
 * Application Auto Scaling (JSON 1.1, `X-Amz-Target: AnyScaleFrontendService.<Op>`) for the `lambda` namespace:
 * scalable targets on `function:NAME:QUALIFIER` and scheduled actions that really fire on the emulator clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { decodeToken, encodeToken, isRecord, num, str, stringList } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';
import { parseFunctionResourceId } from './runtime.ts';
import { isValidTimezone, parseSchedule, ScheduleError } from './schedule.ts';
import type { ScalableTargetRecord, ScalingPolicyRecord, ScheduledActionRecord } from './store.ts';
import { actionKey, resolveQualifier } from './store.ts';

export const AUTOSCALING_TARGET_PREFIX = 'AnyScaleFrontendService.';
const DIMENSION = 'lambda:function:ProvisionedConcurrency';
const PAGE_MAX = 50;
const ACTIONS_PER_TARGET = 200;
const POLICIES_PER_TARGET = 50;

const APIS = new Set([
  'RegisterScalableTarget',
  'DescribeScalableTargets',
  'DeregisterScalableTarget',
  'PutScheduledAction',
  'DescribeScheduledActions',
  'DeleteScheduledAction',
  'PutScalingPolicy',
  'DescribeScalingPolicies',
  'DeleteScalingPolicy',
]);

function validation(message: string): AwsError {
  return new AwsError('ValidationException', 400, message);
}

export function routeAutoscaling(rt: EmulatorRuntime, req: ApiRequest, target: string): Operation | undefined {
  const api = target.slice(AUTOSCALING_TARGET_PREFIX.length);
  if (!APIS.has(api)) return undefined;
  const handler = new AutoscalingApi(rt, req);
  const op: Operation = { api, run: () => handler.dispatch(api) };
  const resourceId = str(req.body.ResourceId);
  if (resourceId) {
    op.resourceId = resourceId;
    const parsed = parseFunctionResourceId(resourceId);
    if (parsed) op.functionName = parsed.name;
  }
  return op;
}

class AutoscalingApi {
  readonly #rt: EmulatorRuntime;
  readonly #req: ApiRequest;

  constructor(rt: EmulatorRuntime, req: ApiRequest) {
    this.#rt = rt;
    this.#req = req;
  }

  get #region() {
    return this.#rt.store.region(this.#req.region);
  }

  dispatch(api: string): ApiResponse {
    switch (api) {
      case 'RegisterScalableTarget':
        return this.register();
      case 'DescribeScalableTargets':
        return this.describeTargets();
      case 'DeregisterScalableTarget':
        return this.deregister();
      case 'PutScheduledAction':
        return this.putAction();
      case 'DescribeScheduledActions':
        return this.describeActions();
      case 'PutScalingPolicy':
        return this.putPolicy();
      case 'DescribeScalingPolicies':
        return this.describePolicies();
      case 'DeleteScalingPolicy':
        return this.deletePolicy();
      default:
        return this.deleteAction();
    }
  }

  /** Checks namespace/dimension/resource id; returns the resource id. */
  #targetKey(requireDimension = true): string {
    const b = this.#req.body;
    const namespace = str(b.ServiceNamespace);
    const resourceId = str(b.ResourceId) ?? '';
    const dimension = str(b.ScalableDimension);
    if (
      namespace !== 'lambda' ||
      (requireDimension && dimension !== DIMENSION) ||
      !parseFunctionResourceId(resourceId)
    ) {
      throw validation('Unsupported service namespace, resource type or scalable dimension');
    }
    return resourceId;
  }

  #notFoundTarget(resourceId: string): AwsError {
    return new AwsError(
      'ObjectNotFoundException',
      400,
      `No scalable target registered for service namespace: lambda, resource ID: ${resourceId}, scalable dimension: ${DIMENSION}`,
    );
  }

  #targetView(t: ScalableTargetRecord): Record<string, unknown> {
    return {
      ServiceNamespace: 'lambda',
      ResourceId: t.resourceId,
      ScalableDimension: t.scalableDimension,
      MinCapacity: t.minCapacity,
      MaxCapacity: t.maxCapacity,
      RoleARN: `arn:aws:iam::${this.#rt.store.accountId}:role/aws-service-role/lambda.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency`,
      CreationTime: t.creationTime / 1000,
      SuspendedState: t.suspendedState ?? {
        DynamicScalingInSuspended: false,
        DynamicScalingOutSuspended: false,
        ScheduledScalingSuspended: false,
      },
      ScalableTargetARN: t.arn,
    };
  }

  register(): ApiResponse {
    const resourceId = this.#targetKey();
    const parsed = parseFunctionResourceId(resourceId);
    const b = this.#req.body;
    const min = num(b.MinCapacity);
    const max = num(b.MaxCapacity);
    if (parsed?.qualifier === '$LATEST') {
      throw validation('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
    }
    const fn = parsed ? this.#region.functions.get(parsed.name) : undefined;
    if (!fn || !parsed || resolveQualifier(fn, parsed.qualifier) === undefined) {
      throw validation(`Unable to find resource ${resourceId}: the function or its qualifier does not exist`);
    }
    if ((min !== undefined && min < 0) || (max !== undefined && max < 0)) {
      throw validation('MinCapacity and MaxCapacity must be greater than or equal to 0');
    }
    const region = this.#region;
    let target = region.targets.get(resourceId);
    if (!target) {
      if (min === undefined || max === undefined) {
        throw validation('MinCapacity and MaxCapacity are required for registering a new scalable target');
      }
      if (region.targets.size >= this.#rt.scalableTargetsPerRegion) {
        throw new AwsError(
          'LimitExceededException',
          400,
          `You have reached the maximum number of scalable targets (${this.#rt.scalableTargetsPerRegion}) for this resource type`,
        );
      }
      target = {
        resourceId,
        scalableDimension: DIMENSION,
        minCapacity: min,
        maxCapacity: max,
        arn: `arn:aws:application-autoscaling:${this.#req.region}:${this.#rt.store.accountId}:scalable-target/${randomBytes(18).toString('hex').slice(0, 36)}`,
        creationTime: this.#rt.nowMs(),
      };
      if (
        target.minCapacity !== undefined &&
        target.maxCapacity !== undefined &&
        target.minCapacity > target.maxCapacity
      ) {
        throw validation('Minimum capacity cannot be greater than maximum capacity');
      }
      region.targets.set(resourceId, target);
    } else {
      const newMin = min ?? target.minCapacity;
      const newMax = max ?? target.maxCapacity;
      if (newMin !== undefined && newMax !== undefined && newMin > newMax) {
        throw validation('Minimum capacity cannot be greater than maximum capacity');
      }
      if (newMin !== undefined) target.minCapacity = newMin;
      if (newMax !== undefined) target.maxCapacity = newMax;
    }
    if (isRecord(b.SuspendedState)) {
      // Like the target's other parameters, a suspension flag left out of an update keeps its value.
      const s = b.SuspendedState;
      const before = target.suspendedState ?? {};
      const flag = (key: string) => (typeof s[key] === 'boolean' ? s[key] === true : before[key] === true);
      target.suspendedState = {
        DynamicScalingInSuspended: flag('DynamicScalingInSuspended'),
        DynamicScalingOutSuspended: flag('DynamicScalingOutSuspended'),
        ScheduledScalingSuspended: flag('ScheduledScalingSuspended'),
      };
    }
    // Registering (re)clamps the current capacity into [min, max], as Application Auto Scaling does.
    this.#rt.clampCapacity(region, target);
    return { status: 200, body: { ScalableTargetARN: target.arn } };
  }

  #page<T>(items: T[], key: (item: T) => string): { page: T[]; nextToken?: string } {
    const b = this.#req.body;
    const maxResults = num(b.MaxResults) ?? PAGE_MAX;
    if (maxResults < 1 || maxResults > PAGE_MAX) {
      throw validation(
        `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : 'less than or equal to 50'}`,
      );
    }
    let start = 0;
    const token = str(b.NextToken);
    if (token) {
      const last = decodeToken(token);
      const index = last === undefined ? -1 : items.findIndex((item) => key(item) === last);
      if (index < 0) throw new AwsError('InvalidNextTokenException', 400, 'Invalid token');
      start = index + 1;
    }
    const page = items.slice(start, start + maxResults);
    const lastItem = page[page.length - 1];
    return start + maxResults < items.length && lastItem !== undefined
      ? { page, nextToken: encodeToken(key(lastItem)) }
      : { page };
  }

  #requireNamespace(): void {
    if (str(this.#req.body.ServiceNamespace) !== 'lambda') {
      throw validation('Unsupported service namespace (the emulator implements lambda only)');
    }
  }

  describeTargets(): ApiResponse {
    this.#requireNamespace();
    const ids = stringList(this.#req.body.ResourceIds);
    const dimension = str(this.#req.body.ScalableDimension);
    if (ids && ids.length > 50) throw validation('ResourceIds must contain at most 50 items');
    const items = [...this.#region.targets.values()].filter(
      (t) =>
        (!ids || ids.length === 0 || ids.includes(t.resourceId)) && (!dimension || dimension === t.scalableDimension),
    );
    const { page, nextToken } = this.#page(items, (t) => t.resourceId);
    return {
      status: 200,
      body: { ScalableTargets: page.map((t) => this.#targetView(t)), ...(nextToken ? { NextToken: nextToken } : {}) },
    };
  }

  deregister(): ApiResponse {
    const resourceId = this.#targetKey();
    const region = this.#region;
    if (!region.targets.has(resourceId)) {
      throw new AwsError(
        'ObjectNotFoundException',
        400,
        `No scalable target found for service namespace: lambda, resource ID: ${resourceId}, scalable dimension: ${DIMENSION}`,
      );
    }
    region.targets.delete(resourceId);
    // Deregistering a target deletes its scheduled actions and scaling policies.
    for (const [key, action] of region.actions) if (action.resourceId === resourceId) region.actions.delete(key);
    for (const [key, policy] of region.scalingPolicies) {
      if (policy.resourceId === resourceId) region.scalingPolicies.delete(key);
    }
    return { status: 200, body: {} };
  }

  putAction(): ApiResponse {
    const resourceId = this.#targetKey();
    const b = this.#req.body;
    const name = str(b.ScheduledActionName) ?? '';
    if (name.length < 1 || name.length > 256 || /[:/|]/.test(name) || /^\s|\s$/.test(name)) {
      throw validation(`Invalid scheduled action name: ${name}`);
    }
    const region = this.#region;
    const target = region.targets.get(resourceId);
    if (!target) throw this.#notFoundTarget(resourceId);
    const key = actionKey(resourceId, name);
    const existing = region.actions.get(key);
    const schedule = str(b.Schedule) ?? existing?.schedule;
    if (!schedule) throw validation('Schedule is required when creating a scheduled action');
    const timezone = str(b.Timezone) ?? (str(b.Schedule) === undefined ? existing?.timezone : undefined);
    if (timezone !== undefined && !isValidTimezone(timezone)) throw validation(`Invalid timezone: ${timezone}`);
    let compiled: ScheduledActionRecord['compiled'];
    try {
      compiled = parseSchedule(schedule, timezone ?? 'UTC');
    } catch (error) {
      if (error instanceof ScheduleError) throw validation(error.message);
      throw error;
    }
    const action = isRecord(b.ScalableTargetAction) ? b.ScalableTargetAction : undefined;
    const min = action ? num(action.MinCapacity) : existing?.minCapacity;
    const max = action ? num(action.MaxCapacity) : existing?.maxCapacity;
    if (min !== undefined && max !== undefined && min > max) {
      throw validation('Minimum capacity cannot be greater than maximum capacity');
    }
    if ((min !== undefined && min < 0) || (max !== undefined && max < 0)) {
      throw validation('MinCapacity and MaxCapacity must be greater than or equal to 0');
    }
    if (!existing) {
      let count = 0;
      for (const a of region.actions.values()) if (a.resourceId === resourceId) count++;
      if (count >= ACTIONS_PER_TARGET) {
        throw new AwsError(
          'LimitExceededException',
          400,
          `You have reached the maximum number of scheduled actions (${ACTIONS_PER_TARGET}) for this scalable target`,
        );
      }
    }
    const startTime = num(b.StartTime);
    const endTime = num(b.EndTime);
    const record: ScheduledActionRecord = {
      name,
      resourceId,
      scalableDimension: DIMENSION,
      schedule,
      arn:
        existing?.arn ??
        `arn:aws:autoscaling:${this.#req.region}:${this.#rt.store.accountId}:scheduledAction:${randomUUID()}:resource/lambda/${resourceId}:scheduledActionName/${name}`,
      creationTime: existing?.creationTime ?? this.#rt.nowMs(),
      compiled,
      nextFireAt: null,
    };
    if (timezone !== undefined) record.timezone = timezone;
    // Omitting StartTime/EndTime on update removes them (AWS documents this).
    if (startTime !== undefined) record.startTime = Math.round(startTime * 1000);
    if (endTime !== undefined) record.endTime = Math.round(endTime * 1000);
    if (min !== undefined) record.minCapacity = min;
    if (max !== undefined) record.maxCapacity = max;
    this.#rt.scheduleNext(record, this.#rt.nowMs());
    region.actions.set(key, record);
    return { status: 200, body: {} };
  }

  #actionView(a: ScheduledActionRecord): Record<string, unknown> {
    const view: Record<string, unknown> = {
      ScheduledActionName: a.name,
      ScheduledActionARN: a.arn,
      ServiceNamespace: 'lambda',
      Schedule: a.schedule,
      ResourceId: a.resourceId,
      ScalableDimension: a.scalableDimension,
      CreationTime: a.creationTime / 1000,
      ScalableTargetAction: {
        ...(a.minCapacity !== undefined ? { MinCapacity: a.minCapacity } : {}),
        ...(a.maxCapacity !== undefined ? { MaxCapacity: a.maxCapacity } : {}),
      },
    };
    if (a.timezone !== undefined) view.Timezone = a.timezone;
    if (a.startTime !== undefined) view.StartTime = a.startTime / 1000;
    if (a.endTime !== undefined) view.EndTime = a.endTime / 1000;
    return view;
  }

  describeActions(): ApiResponse {
    this.#requireNamespace();
    const b = this.#req.body;
    const names = stringList(b.ScheduledActionNames);
    const resourceId = str(b.ResourceId);
    const dimension = str(b.ScalableDimension);
    const items = [...this.#region.actions.values()].filter(
      (a) =>
        (!names || names.length === 0 || names.includes(a.name)) &&
        (!resourceId || a.resourceId === resourceId) &&
        (!dimension || a.scalableDimension === dimension),
    );
    const { page, nextToken } = this.#page(items, (a) => actionKey(a.resourceId, a.name));
    return {
      status: 200,
      body: { ScheduledActions: page.map((a) => this.#actionView(a)), ...(nextToken ? { NextToken: nextToken } : {}) },
    };
  }

  deleteAction(): ApiResponse {
    const resourceId = this.#targetKey();
    const name = str(this.#req.body.ScheduledActionName) ?? '';
    const key = actionKey(resourceId, name);
    if (!this.#region.actions.delete(key)) {
      throw new AwsError(
        'ObjectNotFoundException',
        400,
        `No scheduled action found for service namespace: lambda, resource ID: ${resourceId}, scalable dimension: ${DIMENSION}, scheduled action name: ${name}`,
      );
    }
    return { status: 200, body: {} };
  }

  putPolicy(): ApiResponse {
    const resourceId = this.#targetKey();
    const b = this.#req.body;
    const name = str(b.PolicyName) ?? '';
    if (name.length < 1 || name.length > 256 || /[:/|]/.test(name)) throw validation(`Invalid policy name: ${name}`);
    const policyType = str(b.PolicyType) ?? 'StepScaling';
    if (policyType !== 'TargetTrackingScaling' && policyType !== 'StepScaling') {
      throw validation(`Unsupported policy type: ${policyType}`);
    }
    const region = this.#region;
    if (!region.targets.has(resourceId)) throw this.#notFoundTarget(resourceId);
    const key = actionKey(resourceId, name);
    const existing = region.scalingPolicies.get(key);
    if (!existing) {
      let count = 0;
      for (const p of region.scalingPolicies.values()) if (p.resourceId === resourceId) count++;
      if (count >= POLICIES_PER_TARGET) {
        throw new AwsError(
          'LimitExceededException',
          400,
          `You have reached the maximum number of scaling policies (${POLICIES_PER_TARGET}) for this scalable target`,
        );
      }
    }
    const configurationKey =
      policyType === 'TargetTrackingScaling'
        ? 'TargetTrackingScalingPolicyConfiguration'
        : 'StepScalingPolicyConfiguration';
    const configuration = b[configurationKey];
    const record: ScalingPolicyRecord = {
      name,
      resourceId,
      scalableDimension: DIMENSION,
      policyType,
      arn:
        existing?.arn ??
        `arn:aws:autoscaling:${this.#req.region}:${this.#rt.store.accountId}:scalingPolicy:${randomUUID()}:resource/lambda/${resourceId}:policyName/${name}`,
      creationTime: existing?.creationTime ?? this.#rt.nowMs(),
    };
    if (isRecord(configuration)) record.configuration = configuration;
    region.scalingPolicies.set(key, record);
    return { status: 200, body: { PolicyARN: record.arn, Alarms: [] } };
  }

  describePolicies(): ApiResponse {
    this.#requireNamespace();
    const b = this.#req.body;
    const names = stringList(b.PolicyNames);
    const resourceId = str(b.ResourceId);
    const dimension = str(b.ScalableDimension);
    const items = [...this.#region.scalingPolicies.values()].filter(
      (p) =>
        (!names || names.length === 0 || names.includes(p.name)) &&
        (!resourceId || p.resourceId === resourceId) &&
        (!dimension || p.scalableDimension === dimension),
    );
    const { page, nextToken } = this.#page(items, (p) => actionKey(p.resourceId, p.name));
    const view = (p: ScalingPolicyRecord): Record<string, unknown> => {
      const out: Record<string, unknown> = {
        PolicyARN: p.arn,
        PolicyName: p.name,
        ServiceNamespace: 'lambda',
        ResourceId: p.resourceId,
        ScalableDimension: p.scalableDimension,
        PolicyType: p.policyType,
        CreationTime: p.creationTime / 1000,
        Alarms: [],
      };
      if (p.configuration) {
        out[
          p.policyType === 'TargetTrackingScaling'
            ? 'TargetTrackingScalingPolicyConfiguration'
            : 'StepScalingPolicyConfiguration'
        ] = p.configuration;
      }
      return out;
    };
    return {
      status: 200,
      body: { ScalingPolicies: page.map(view), ...(nextToken ? { NextToken: nextToken } : {}) },
    };
  }

  deletePolicy(): ApiResponse {
    const resourceId = this.#targetKey();
    const name = str(this.#req.body.PolicyName) ?? '';
    if (!this.#region.scalingPolicies.delete(actionKey(resourceId, name))) {
      throw new AwsError(
        'ObjectNotFoundException',
        400,
        `No scaling policy found for service namespace: lambda, resource ID: ${resourceId}, scalable dimension: ${DIMENSION}, policy name: ${name}`,
      );
    }
    return { status: 200, body: {} };
  }
}
