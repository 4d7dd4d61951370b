/**
 * Lambda's REST-JSON API as the AWS SDK v3 calls it (paths, methods and status codes from the SDK's operation
 * schemas), with AWS's rules: value ranges, asynchronous updates (InProgress + ResourceConflictException), the
 * unreserved floor, provisioned concurrency only on versions/aliases and within the reservation.
 */
import { randomUUID } from 'node:crypto';
import { compareOrdinal } from '../shared/compare.ts';
import {
  checkProvisionedConcurrency,
  checkReservedConcurrency,
  provisionedConflict,
  setProvisioned,
} from './concurrency.ts';
import { AwsError, rangeViolation, validationError } from './errors.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { decodeToken, encodeToken, isRecord, num, str, stringList, stringMap, upperBound } from './http-types.ts';
import {
  applyLoggingConfig,
  deadLetterOf,
  environmentOf,
  eventInvokeApi,
  layerApi,
  layersOf,
  productionView,
  tracingMode,
} from './lambda-production.ts';
import type { EmulatorRuntime } from './runtime.ts';
import type { AliasRecord, Architecture, FunctionConfig, FunctionRecord, PackageType, VersionRecord } from './store.ts';
import {
  lambdaTimestamp,
  newFunctionRecord,
  provisionedStatus,
  publishVersion,
  resolveQualifier,
  settleUpdate,
} from './store.ts';
import { codeSha256 } from './zip.ts';

const LIST_PAGE_MAX = 50;

interface Route {
  method: string;
  pattern: RegExp;
  api: string;
  /** Query parameter that must be present to select this route (ListProvisionedConcurrencyConfigs: List=ALL). */
  query?: [string, string];
}

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/?$/, api: 'ListFunctions' },
  { method: 'POST', pattern: /^\/2015-03-31\/functions\/?$/, api: 'CreateFunction' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/?$/, api: 'GetFunction' },
  { method: 'DELETE', pattern: /^\/2015-03-31\/functions\/([^/]+)\/?$/, api: 'DeleteFunction' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, api: 'GetFunctionConfiguration' },
  { method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, api: 'UpdateFunctionConfiguration' },
  { method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/code$/, api: 'UpdateFunctionCode' },
  { method: 'POST', pattern: /^\/2015-03-31\/functions\/([^/]+)\/versions$/, api: 'PublishVersion' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/versions$/, api: 'ListVersionsByFunction' },
  { method: 'POST', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, api: 'CreateAlias' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, api: 'ListAliases' },
  { method: 'GET', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, api: 'GetAlias' },
  { method: 'PUT', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, api: 'UpdateAlias' },
  { method: 'DELETE', pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, api: 'DeleteAlias' },
  { method: 'GET', pattern: /^\/2019-09-30\/functions\/([^/]+)\/concurrency$/, api: 'GetFunctionConcurrency' },
  { method: 'PUT', pattern: /^\/2017-10-31\/functions\/([^/]+)\/concurrency$/, api: 'PutFunctionConcurrency' },
  { method: 'DELETE', pattern: /^\/2017-10-31\/functions\/([^/]+)\/concurrency$/, api: 'DeleteFunctionConcurrency' },
  {
    method: 'GET',
    pattern: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/,
    api: 'ListProvisionedConcurrencyConfigs',
    query: ['List', 'ALL'],
  },
  {
    method: 'GET',
    pattern: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/,
    api: 'GetProvisionedConcurrencyConfig',
  },
  {
    method: 'PUT',
    pattern: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/,
    api: 'PutProvisionedConcurrencyConfig',
  },
  {
    method: 'DELETE',
    pattern: /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/,
    api: 'DeleteProvisionedConcurrencyConfig',
  },
  { method: 'GET', pattern: /^\/2016-08-19\/account-settings\/?$/, api: 'GetAccountSettings' },
  {
    method: 'GET',
    pattern: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config\/list$/,
    api: 'ListFunctionEventInvokeConfigs',
  },
  {
    method: 'GET',
    pattern: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/,
    api: 'GetFunctionEventInvokeConfig',
  },
  {
    method: 'PUT',
    pattern: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/,
    api: 'PutFunctionEventInvokeConfig',
  },
  {
    method: 'POST',
    pattern: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/,
    api: 'UpdateFunctionEventInvokeConfig',
  },
  {
    method: 'DELETE',
    pattern: /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/,
    api: 'DeleteFunctionEventInvokeConfig',
  },
  { method: 'GET', pattern: /^\/2018-10-31\/layers\/?$/, api: 'GetLayerVersionByArn', query: ['find', 'LayerVersion'] },
  { method: 'POST', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions$/, api: 'PublishLayerVersion' },
  { method: 'GET', pattern: /^\/2018-10-31\/layers\/([^/]+)\/versions\/(\d+)$/, api: 'GetLayerVersion' },
  { method: 'GET', pattern: /^\/2017-03-31\/tags\/(.+)$/, api: 'ListTags' },
  { method: 'POST', pattern: /^\/2017-03-31\/tags\/(.+)$/, api: 'TagResource' },
  { method: 'DELETE', pattern: /^\/2017-03-31\/tags\/(.+)$/, api: 'UntagResource' },
];

/**
 * A FunctionName path parameter: a name, a full or partial ARN, optionally with a qualifier
 * (`arn:aws:lambda:eu-central-1:123456789012:function:orders-api:live`, `123456789012:function:orders-api`).
 */
function parseFunctionName(decoded: string): { name: string; qualifier?: string } {
  const m =
    /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]+)(?::([A-Za-z0-9_$-]+))?$/.exec(
      decoded,
    );
  if (!m) return { name: decoded };
  return m[2] ? { name: m[1] ?? decoded, qualifier: m[2] } : { name: m[1] ?? decoded };
}

export function routeLambda(rt: EmulatorRuntime, req: ApiRequest): Operation | undefined {
  for (const route of ROUTES) {
    if (route.method !== req.method) continue;
    const m = route.pattern.exec(req.path);
    if (!m) continue;
    if (route.query && req.query.get(route.query[0]) !== route.query[1]) continue;
    const isTags =
      route.api === 'ListTags' ||
      route.api === 'TagResource' ||
      route.api === 'UntagResource' ||
      route.api.includes('LayerVersion');
    const first = m[1] ? decodeURIComponent(m[1]) : undefined;
    const target = first && !isTags ? parseFunctionName(first) : undefined;
    const api = new LambdaApi(rt, req);
    const op: Operation = {
      api: route.api,
      run: () => api.dispatch(route.api, target, m[2] ? decodeURIComponent(m[2]) : undefined, first),
    };
    const functionName =
      target?.name ?? (first ? parseFunctionName(first).name : undefined) ?? str(req.body.FunctionName);
    if (functionName) op.functionName = functionName;
    return op;
  }
  return undefined;
}

class LambdaApi {
  readonly #rt: EmulatorRuntime;
  readonly #req: ApiRequest;

  constructor(rt: EmulatorRuntime, req: ApiRequest) {
    this.#rt = rt;
    this.#req = req;
  }

  get #region() {
    return this.#rt.store.region(this.#req.region);
  }

  #now(): number {
    return this.#rt.nowMs();
  }

  dispatch(
    api: string,
    target: { name: string; qualifier?: string } | undefined,
    second: string | undefined,
    rawFirst: string | undefined,
  ): ApiResponse {
    switch (api) {
      case 'ListFunctions':
        return this.listFunctions();
      case 'CreateFunction':
        return this.createFunction();
      case 'GetAccountSettings':
        return this.getAccountSettings();
      case 'ListTags':
      case 'TagResource':
      case 'UntagResource':
        return this.tags(api, rawFirst ?? '');
      case 'PublishLayerVersion':
      case 'GetLayerVersionByArn':
      case 'GetLayerVersion': {
        const r = this.#req;
        const out = layerApi(
          api,
          this.#region,
          this.#rt.store.accountId,
          r.region,
          rawFirst,
          second,
          r.body,
          r.query,
          r.baseUrl,
          this.#now(),
        );
        if (out) return out;
      }
    }
    if (!target) throw new AwsError('ResourceNotFoundException', 404, 'Function not found');
    const fn = this.#function(target.name, api === 'GetFunction' ? undefined : target.qualifier);
    const qualifier = this.#req.query.get('Qualifier') ?? target.qualifier;
    switch (api) {
      case 'GetFunction':
        return this.getFunction(fn, qualifier);
      case 'DeleteFunction':
        return this.deleteFunction(fn);
      case 'GetFunctionConfiguration':
        return { status: 200, body: this.#configurationView(fn, qualifier) };
      case 'UpdateFunctionConfiguration':
        return this.updateConfiguration(fn);
      case 'UpdateFunctionCode':
        return this.updateCode(fn);
      case 'PublishVersion':
        return this.publishVersion(fn);
      case 'ListVersionsByFunction':
        return this.listVersions(fn);
      case 'CreateAlias':
        return this.createAlias(fn);
      case 'ListAliases':
        return this.listAliases(fn);
      case 'GetAlias':
        return { status: 200, body: this.#aliasView(fn, this.#alias(fn, second ?? '')) };
      case 'UpdateAlias':
        return this.updateAlias(fn, second ?? '');
      case 'DeleteAlias':
        fn.aliases.delete(second ?? '');
        fn.provisioned.delete(second ?? '');
        return { status: 204 };
      case 'GetFunctionConcurrency':
        return {
          status: 200,
          body: fn.reservedConcurrency === undefined ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency },
        };
      case 'PutFunctionConcurrency':
        return this.putConcurrency(fn);
      case 'DeleteFunctionConcurrency':
        delete fn.reservedConcurrency;
        return { status: 204 };
      case 'GetProvisionedConcurrencyConfig':
        return this.getProvisioned(fn, qualifier);
      case 'PutProvisionedConcurrencyConfig':
        return this.putProvisioned(fn, qualifier);
      case 'DeleteProvisionedConcurrencyConfig':
        return this.deleteProvisioned(fn, qualifier);
      case 'ListProvisionedConcurrencyConfigs':
        return this.listProvisioned(fn);
    }
    const async = eventInvokeApi(
      api,
      fn,
      this.#req.query.get('Qualifier') ?? undefined,
      this.#req.body,
      this.#req.query,
      this.#now(),
    );
    if (async) return async;
    throw new AwsError('UnknownOperationException', 404, `Unknown operation ${api}`);
  }

  #function(name: string, qualifier?: string): FunctionRecord {
    const fn = this.#region.functions.get(name);
    if (!fn) {
      throw new AwsError(
        'ResourceNotFoundException',
        404,
        `Function not found: ${this.#rt.store.functionArn(this.#req.region, name, qualifier)}`,
      );
    }
    settleUpdate(fn, this.#now());
    return fn;
  }

  #assertNoUpdateInProgress(fn: FunctionRecord): void {
    if (fn.lastUpdate.status === 'InProgress') {
      throw new AwsError('ResourceConflictException', 409, `An update is in progress for resource: ${fn.arn}`, {
        fields: { Type: 'User' },
      });
    }
  }

  /** Starts an asynchronous update: InProgress for updateDelayMs, then Successful (or an injected Failed). */
  #beginUpdate(fn: FunctionRecord, api: string, before: { config: FunctionConfig; code?: Buffer }): void {
    const failure = this.#rt.faults.updateFailure(api, fn.name);
    fn.lastUpdate = {
      status: 'InProgress',
      until: this.#now() + this.#rt.updateDelayMs,
      outcome: failure ? 'Failed' : 'Successful',
      reason: 'The function is being updated.',
      reasonCode: 'Updating',
      ...(failure ? { revert: before } : {}),
    };
    if (failure?.reason) fn.lastUpdate.reason = failure.reason;
    fn.config.lastModified = lambdaTimestamp(this.#now());
    fn.config.revisionId = randomUUID();
  }

  // ---- views ------------------------------------------------------------------------------------------------

  /** The subset ListFunctions returns: no State, no LastUpdateStatus (as AWS). */
  #listView(fn: FunctionRecord): Record<string, unknown> {
    const c = fn.config;
    const view: Record<string, unknown> = {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Role: c.role,
      CodeSize: c.codeSize,
      Description: c.description,
      Timeout: c.timeout,
      MemorySize: c.memorySize,
      LastModified: c.lastModified,
      CodeSha256: c.codeSha256,
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: c.revisionId,
      PackageType: fn.packageType,
      Architectures: [c.architecture],
      EphemeralStorage: { Size: 512 },
      ...productionView(c),
    };
    if (c.runtime) view.Runtime = c.runtime;
    if (c.handler) view.Handler = c.handler;
    return view;
  }

  #fullView(fn: FunctionRecord, config: FunctionConfig, version: string): Record<string, unknown> {
    const view = this.#listView(fn);
    Object.assign(view, {
      Timeout: config.timeout,
      MemorySize: config.memorySize,
      LastModified: config.lastModified,
      CodeSha256: config.codeSha256,
      CodeSize: config.codeSize,
      Description: config.description,
      RevisionId: config.revisionId,
      Architectures: [config.architecture],
      Version: version,
      State: 'Active',
    });
    // A version snapshots these too; a view of it must not show $LATEST's.
    for (const key of ['Environment', 'DeadLetterConfig', 'Layers']) delete view[key];
    Object.assign(view, productionView(config));
    if (config.runtime) view.Runtime = config.runtime;
    if (version !== '$LATEST') view.FunctionArn = `${fn.arn}:${version}`;
    if (version === '$LATEST') {
      view.LastUpdateStatus = fn.lastUpdate.status;
      if (fn.lastUpdate.status !== 'Successful') {
        if (fn.lastUpdate.reason) view.LastUpdateStatusReason = fn.lastUpdate.reason;
        if (fn.lastUpdate.reasonCode) view.LastUpdateStatusReasonCode = fn.lastUpdate.reasonCode;
      }
    } else {
      view.LastUpdateStatus = 'Successful';
    }
    return view;
  }

  #versionOf(fn: FunctionRecord, qualifier: string | undefined): { config: FunctionConfig; version: string } {
    if (!qualifier || qualifier === '$LATEST') return { config: fn.config, version: '$LATEST' };
    const version = resolveQualifier(fn, qualifier);
    const record: VersionRecord | undefined = version ? fn.versions.get(version) : undefined;
    if (version === '$LATEST') return { config: fn.config, version: '$LATEST' };
    if (!record) throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${qualifier}`);
    return { config: record.config, version: record.version };
  }

  #configurationView(fn: FunctionRecord, qualifier: string | undefined): Record<string, unknown> {
    const { config, version } = this.#versionOf(fn, qualifier);
    const view = this.#fullView(fn, config, version);
    if (qualifier && fn.aliases.has(qualifier)) view.FunctionArn = `${fn.arn}:${qualifier}`;
    return view;
  }

  #aliasView(fn: FunctionRecord, alias: AliasRecord): Record<string, unknown> {
    return {
      AliasArn: `${fn.arn}:${alias.name}`,
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      RevisionId: alias.revisionId,
      ...(alias.routingWeights ? { RoutingConfig: { AdditionalVersionWeights: { ...alias.routingWeights } } } : {}),
    };
  }

  /**
   * RoutingConfig.AdditionalVersionWeights as Lambda validates it: at most one additional version, a published one
   * other than the primary, with a weight in 0..1. undefined: not sent; null: sent empty (weights removed).
   */
  #routingWeights(fn: FunctionRecord, primary: string): Record<string, number> | null | undefined {
    const routing: unknown = this.#req.body.RoutingConfig;
    if (routing === undefined) return undefined;
    const raw = isRecord(routing) ? routing.AdditionalVersionWeights : undefined;
    if (raw === undefined || (isRecord(raw) && Object.keys(raw).length === 0)) return null;
    if (!isRecord(raw)) throw validationError(['RoutingConfig.AdditionalVersionWeights must be a map']);
    const entries = Object.entries(raw);
    if (entries.length > 1) {
      throw new AwsError('InvalidParameterValueException', 400, 'Only one additional version can be specified.');
    }
    const weights: Record<string, number> = {};
    for (const [version, weight] of entries) {
      if (typeof weight !== 'number' || weight < 0 || weight > 1) {
        throw validationError([
          `Value '${String(weight)}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`,
        ]);
      }
      if (!fn.versions.has(version)) {
        throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${version}`);
      }
      if (version === primary) {
        throw new AwsError(
          'InvalidParameterValueException',
          400,
          `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
        );
      }
      weights[version] = weight;
    }
    // Weighted routing needs two published versions: $LATEST cannot be the primary.
    if (primary === '$LATEST') {
      throw new AwsError(
        'InvalidParameterValueException',
        400,
        '$LATEST is not supported for an alias pointing to more than 1 version',
      );
    }
    return weights;
  }

  #alias(fn: FunctionRecord, name: string) {
    const alias = fn.aliases.get(name);
    if (!alias) throw new AwsError('ResourceNotFoundException', 404, `Cannot find alias arn: ${fn.arn}:${name}`);
    return alias;
  }

  // ---- operations -------------------------------------------------------------------------------------------

  listFunctions(): ApiResponse {
    const maxItems = this.#maxItems();
    const names = this.#region.sortedNames();
    const marker = this.#req.query.get('Marker');
    let start = 0;
    if (marker) {
      const last = decodeToken(marker);
      if (last === undefined) throw new AwsError('InvalidParameterValueException', 400, 'Invalid marker');
      start = upperBound(names, last);
    }
    const page = names.slice(start, start + maxItems);
    const body: Record<string, unknown> = {
      Functions: page.map((name) => {
        const fn = this.#region.functions.get(name);
        if (fn) settleUpdate(fn, this.#now());
        return fn ? this.#listView(fn) : {};
      }),
    };
    const last = page[page.length - 1];
    if (start + maxItems < names.length && last !== undefined) body.NextMarker = encodeToken(last);
    return { status: 200, body };
  }

  /** MaxItems: 1..10000 accepted (the model's range), at most 50 returned (AWS's page cap). */
  #maxItems(cap = LIST_PAGE_MAX): number {
    const raw = this.#req.query.get('MaxItems');
    if (raw === null) return cap;
    const value = Number(raw);
    const problem = Number.isInteger(value) ? rangeViolation('maxItems', value, 1, 10000) : 'MaxItems';
    if (problem) throw validationError([problem]);
    return Math.min(value, cap);
  }

  getFunction(fn: FunctionRecord, qualifier: string | undefined): ApiResponse {
    const { config, version } = this.#versionOf(fn, qualifier);
    const body: Record<string, unknown> = {
      Configuration: this.#configurationView(fn, qualifier),
      Code:
        fn.packageType === 'Image'
          ? { RepositoryType: 'ECR', ImageUri: config.imageUri, ResolvedImageUri: config.imageUri }
          : {
              RepositoryType: 'S3',
              Location: `${this.#req.baseUrl}/_emulator/code/${fn.region}/${encodeURIComponent(fn.name)}${
                version === '$LATEST' ? '' : `?version=${version}`
              }`,
            },
      Tags: { ...fn.tags },
    };
    if (fn.reservedConcurrency !== undefined) {
      body.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
    }
    return { status: 200, body };
  }

  createFunction(): ApiResponse {
    const b = this.#req.body;
    const name = str(b.FunctionName);
    if (!name || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw validationError([
        `Value '${name ?? 'null'}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+`,
      ]);
    }
    const region = this.#region;
    if (region.functions.has(name)) {
      throw new AwsError('ResourceConflictException', 409, `Function already exist: ${name}`, {
        fields: { Type: 'User' },
      });
    }
    const role = str(b.Role);
    if (!role || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(role)) {
      throw validationError([
        `Value '${role ?? 'null'}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
      ]);
    }
    const packageType = (str(b.PackageType) ?? 'Zip') as PackageType;
    const code = isRecord(b.Code) ? b.Code : {};
    const memorySize = num(b.MemorySize);
    const timeout = num(b.Timeout);
    this.#validateRanges(memorySize, timeout);
    const architecture = this.#architecture(b.Architectures) ?? 'x86_64';
    let zip: Buffer | undefined;
    if (packageType === 'Zip') {
      const zipFile = str(code.ZipFile);
      if (zipFile) zip = Buffer.from(zipFile, 'base64');
      else if (!str(code.S3Bucket) || !str(code.S3Key)) {
        throw new AwsError('InvalidParameterValueException', 400, 'Please provide a source for function code.');
      }
      if (!str(b.Runtime) || !str(b.Handler)) {
        throw new AwsError(
          'InvalidParameterValueException',
          400,
          'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
        );
      }
    } else if (!str(code.ImageUri)) {
      throw new AwsError('InvalidParameterValueException', 400, 'ImageUri must be specified for Image package type.');
    }
    const tags = stringMap(b.Tags);
    const fn = newFunctionRecord(
      this.#rt.store,
      {
        region: this.#req.region,
        name,
        packageType,
        architecture,
        role,
        ...(memorySize !== undefined ? { memorySize } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...optional('runtime', str(b.Runtime)),
        ...optional('handler', str(b.Handler)),
        ...optional('description', str(b.Description)),
        ...optional('imageUri', str(code.ImageUri)),
        ...(zip ? { code: zip } : {}),
        ...(tags ? { tags } : {}),
      },
      this.#now(),
    );
    fn.config.logging = applyLoggingConfig(fn.config.logging, b.LoggingConfig);
    fn.config.tracing = tracingMode(b.TracingConfig, fn.config.tracing);
    const environment = environmentOf(b.Environment);
    if (environment !== undefined) fn.config.environment = environment;
    const deadLetter = deadLetterOf(b.DeadLetterConfig);
    if (deadLetter) fn.config.deadLetterTarget = deadLetter;
    const layers = layersOf(region, b.Layers);
    if (layers !== undefined) fn.config.layers = layers;
    region.addFunction(fn);
    let version = '$LATEST';
    if (b.Publish === true) version = publishVersion(fn).version;
    return { status: 201, body: this.#fullView(fn, fn.config, version) };
  }

  deleteFunction(fn: FunctionRecord): ApiResponse {
    const qualifier = this.#req.query.get('Qualifier');
    if (qualifier && qualifier !== '$LATEST') {
      fn.versions.delete(qualifier);
      fn.provisioned.delete(qualifier);
      return { status: 204 };
    }
    this.#region.deleteFunction(fn.name);
    return { status: 204 };
  }

  #validateRanges(memorySize: number | undefined, timeout: number | undefined): void {
    const problems: string[] = [];
    if (memorySize !== undefined) {
      const p = rangeViolation('memorySize', memorySize, 128, 10240);
      if (p) problems.push(p);
    }
    if (timeout !== undefined) {
      const p = rangeViolation('timeout', timeout, 1, 900);
      if (p) problems.push(p);
    }
    if (problems.length > 0) throw validationError(problems);
  }

  #architecture(value: unknown): Architecture | undefined {
    if (value === undefined) return undefined;
    const list = stringList(value);
    if (list?.length !== 1 || (list[0] !== 'x86_64' && list[0] !== 'arm64')) {
      throw validationError([
        `Value '[${(list ?? []).join(', ')}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]`,
      ]);
    }
    return list[0];
  }

  updateConfiguration(fn: FunctionRecord): ApiResponse {
    const b = this.#req.body;
    const memorySize = num(b.MemorySize);
    const timeout = num(b.Timeout);
    this.#validateRanges(memorySize, timeout);
    this.#assertNoUpdateInProgress(fn);
    const logging = applyLoggingConfig(fn.config.logging, b.LoggingConfig);
    const tracing = tracingMode(b.TracingConfig, fn.config.tracing);
    const environment = environmentOf(b.Environment);
    const deadLetter = deadLetterOf(b.DeadLetterConfig);
    const layers = layersOf(this.#region, b.Layers);
    const before = { config: structuredClone(fn.config) };
    fn.config.logging = logging;
    fn.config.tracing = tracing;
    if (environment !== undefined) fn.config.environment = environment;
    if (deadLetter === null) delete fn.config.deadLetterTarget;
    else if (deadLetter !== undefined) fn.config.deadLetterTarget = deadLetter;
    if (layers !== undefined) fn.config.layers = layers;
    if (memorySize !== undefined) fn.config.memorySize = memorySize;
    if (timeout !== undefined) fn.config.timeout = timeout;
    if (str(b.Description) !== undefined) fn.config.description = str(b.Description) ?? '';
    const handler = str(b.Handler);
    const runtime = str(b.Runtime);
    if (handler && fn.packageType === 'Zip') fn.config.handler = handler;
    if (runtime && fn.packageType === 'Zip') fn.config.runtime = runtime;
    if (str(b.Role)) fn.config.role = str(b.Role) ?? fn.config.role;
    this.#beginUpdate(fn, 'UpdateFunctionConfiguration', before);
    return { status: 200, body: this.#fullView(fn, fn.config, '$LATEST') };
  }

  updateCode(fn: FunctionRecord): ApiResponse {
    const b = this.#req.body;
    const architecture = this.#architecture(b.Architectures);
    const zipFile = str(b.ZipFile);
    const s3 = str(b.S3Bucket) && str(b.S3Key);
    const imageUri = str(b.ImageUri);
    if (fn.packageType === 'Zip') {
      if (imageUri) {
        throw new AwsError(
          'InvalidParameterValueException',
          400,
          "Please don't provide ImageUri when updating a function with packageType Zip.",
        );
      }
      if (!zipFile && !s3) {
        throw new AwsError('InvalidParameterValueException', 400, 'Please provide a source for function code.');
      }
    } else if (!imageUri) {
      throw new AwsError(
        'InvalidParameterValueException',
        400,
        'Please provide ImageUri when updating a function with packageType Image.',
      );
    }
    this.#assertNoUpdateInProgress(fn);
    if (b.DryRun === true) return { status: 200, body: this.#fullView(fn, fn.config, '$LATEST') };
    const before: { config: FunctionConfig; code?: Buffer } = { config: structuredClone(fn.config) };
    if (fn.code) before.code = fn.code;
    if (fn.packageType === 'Zip') {
      const bytes = zipFile ? Buffer.from(zipFile, 'base64') : Buffer.from(`s3://${str(b.S3Bucket)}/${str(b.S3Key)}`);
      fn.code = bytes;
      fn.config.codeSha256 = codeSha256(bytes);
      fn.config.codeSize = bytes.length;
    } else if (imageUri) {
      fn.config.imageUri = imageUri;
      fn.config.codeSha256 = codeSha256(Buffer.from(`${imageUri}#${architecture ?? fn.config.architecture}`));
    }
    // Architecture changes only ride along with code: that is why a controller must re-send the package.
    if (architecture) fn.config.architecture = architecture;
    this.#beginUpdate(fn, 'UpdateFunctionCode', before);
    let version = '$LATEST';
    if (b.Publish === true) version = publishVersion(fn).version;
    return { status: 200, body: this.#fullView(fn, fn.config, version) };
  }

  publishVersion(fn: FunctionRecord): ApiResponse {
    this.#assertNoUpdateInProgress(fn);
    const expectedSha = str(this.#req.body.CodeSha256);
    if (expectedSha && expectedSha !== fn.config.codeSha256) {
      throw new AwsError(
        'InvalidParameterValueException',
        400,
        `CodeSHA256 (${expectedSha}) is different from current CodeSHA256 in $LATEST (${fn.config.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const version = publishVersion(fn);
    return { status: 201, body: this.#fullView(fn, version.config, version.version) };
  }

  listVersions(fn: FunctionRecord): ApiResponse {
    const all = [this.#fullView(fn, fn.config, '$LATEST')];
    for (const v of fn.versions.values()) all.push(this.#fullView(fn, v.config, v.version));
    return this.#paged(all, 'Versions', (v) => String(v.Version));
  }

  #paged(items: Record<string, unknown>[], key: string, id: (item: Record<string, unknown>) => string): ApiResponse {
    const maxItems = this.#maxItems();
    const marker = this.#req.query.get('Marker');
    let start = 0;
    if (marker) {
      const last = decodeToken(marker);
      start = items.findIndex((item) => id(item) === last) + 1;
    }
    const page = items.slice(start, start + maxItems);
    const body: Record<string, unknown> = { [key]: page };
    const last = page[page.length - 1];
    if (start + maxItems < items.length && last) body.NextMarker = encodeToken(id(last));
    return { status: 200, body };
  }

  createAlias(fn: FunctionRecord): ApiResponse {
    const b = this.#req.body;
    const name = str(b.Name) ?? '';
    const version = str(b.FunctionVersion) ?? '';
    if (!/^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/.test(name)) {
      throw validationError([
        `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
      ]);
    }
    if (version !== '$LATEST' && !fn.versions.has(version)) {
      throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${version}`);
    }
    if (fn.aliases.has(name)) {
      throw new AwsError('ResourceConflictException', 409, `Alias already exists: ${fn.arn}:${name}`);
    }
    const weights = this.#routingWeights(fn, version);
    const alias: AliasRecord = {
      name,
      functionVersion: version,
      description: str(b.Description) ?? '',
      revisionId: randomUUID(),
    };
    if (weights) alias.routingWeights = weights;
    fn.aliases.set(name, alias);
    return { status: 201, body: this.#aliasView(fn, alias) };
  }

  updateAlias(fn: FunctionRecord, name: string): ApiResponse {
    const alias = this.#alias(fn, name);
    const version = str(this.#req.body.FunctionVersion);
    if (version !== undefined) {
      if (version !== '$LATEST' && !fn.versions.has(version)) {
        throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${version}`);
      }
    }
    const weights = this.#routingWeights(fn, version ?? alias.functionVersion);
    if (version !== undefined) alias.functionVersion = version;
    if (weights === null) delete alias.routingWeights;
    else if (weights !== undefined) alias.routingWeights = weights;
    const description = str(this.#req.body.Description);
    if (description !== undefined) alias.description = description;
    alias.revisionId = randomUUID();
    return { status: 200, body: this.#aliasView(fn, alias) };
  }

  listAliases(fn: FunctionRecord): ApiResponse {
    const filter = this.#req.query.get('FunctionVersion');
    const aliases = [...fn.aliases.values()]
      .filter((a) => !filter || a.functionVersion === filter)
      .sort((a, b) => compareOrdinal(a.name, b.name))
      .map((a) => this.#aliasView(fn, a) as Record<string, unknown>);
    return this.#paged(aliases, 'Aliases', (a) => String(a.Name));
  }

  putConcurrency(fn: FunctionRecord): ApiResponse {
    const value = num(this.#req.body.ReservedConcurrentExecutions);
    if (value === undefined || !Number.isInteger(value)) {
      throw validationError([
        "Value 'null' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
      ]);
    }
    const range = rangeViolation('reservedConcurrentExecutions', value, 0);
    if (range) throw validationError([range]);
    const problem = checkReservedConcurrency(this.#rt.store, fn, value);
    if (problem) throw problem;
    fn.reservedConcurrency = value;
    return { status: 200, body: { ReservedConcurrentExecutions: value } };
  }

  #provisionedView(fn: FunctionRecord, qualifier: string, withArn: boolean): Record<string, unknown> {
    const record = fn.provisioned.get(qualifier);
    if (!record) return {};
    const status = provisionedStatus(record, this.#now());
    const allocated = status === 'READY' ? record.requested : 0;
    return {
      ...(withArn ? { FunctionArn: `${fn.arn}:${qualifier}` } : {}),
      RequestedProvisionedConcurrentExecutions: record.requested,
      AvailableProvisionedConcurrentExecutions: allocated,
      AllocatedProvisionedConcurrentExecutions: allocated,
      Status: status,
      ...(status === 'FAILED' && record.failReason !== undefined ? { StatusReason: record.failReason } : {}),
      LastModified: record.lastModified,
    };
  }

  #requireQualifier(qualifier: string | undefined): string {
    if (!qualifier) {
      throw validationError(["Value 'null' at 'qualifier' failed to satisfy constraint: Member must not be null"]);
    }
    return qualifier;
  }

  getProvisioned(fn: FunctionRecord, rawQualifier: string | undefined): ApiResponse {
    const qualifier = this.#requireQualifier(rawQualifier);
    if (qualifier !== '$LATEST' && resolveQualifier(fn, qualifier) === undefined) {
      throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${qualifier}`);
    }
    if (!fn.provisioned.has(qualifier)) {
      throw new AwsError(
        'ProvisionedConcurrencyConfigNotFoundException',
        404,
        'No Provisioned Concurrency Config found for this function',
        { fields: { Type: 'User' } },
      );
    }
    return { status: 200, body: this.#provisionedView(fn, qualifier, false) };
  }

  putProvisioned(fn: FunctionRecord, rawQualifier: string | undefined): ApiResponse {
    const qualifier = this.#requireQualifier(rawQualifier);
    const value = num(this.#req.body.ProvisionedConcurrentExecutions);
    if (value === undefined || !Number.isInteger(value)) {
      throw validationError([
        "Value 'null' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
      ]);
    }
    const range = rangeViolation('provisionedConcurrentExecutions', value, 1);
    if (range) throw validationError([range]);
    const problem = checkProvisionedConcurrency(this.#rt.store, fn, qualifier, value);
    if (problem) throw problem;
    const conflict = provisionedConflict(fn, qualifier, this.#now());
    if (conflict) throw conflict;
    const failure = this.#rt.faults.provisionedFailure(fn.name, qualifier);
    setProvisioned(fn, qualifier, value, this.#now(), this.#rt.provisionDelayMs, failure);
    const view = this.#provisionedView(fn, qualifier, false);
    // AWS always answers a Put with IN_PROGRESS; allocation is visible on the next read.
    return {
      status: 202,
      body: {
        ...view,
        Status: 'IN_PROGRESS',
        AllocatedProvisionedConcurrentExecutions: 0,
        AvailableProvisionedConcurrentExecutions: 0,
      },
    };
  }

  deleteProvisioned(fn: FunctionRecord, rawQualifier: string | undefined): ApiResponse {
    const qualifier = this.#requireQualifier(rawQualifier);
    if (qualifier !== '$LATEST' && resolveQualifier(fn, qualifier) === undefined) {
      throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${qualifier}`);
    }
    fn.provisioned.delete(qualifier);
    return { status: 204 };
  }

  listProvisioned(fn: FunctionRecord): ApiResponse {
    const items = [...fn.provisioned.keys()].sort().map((q) => this.#provisionedView(fn, q, true));
    const response = this.#paged(items, 'ProvisionedConcurrencyConfigs', (i) => String(i.FunctionArn));
    return response;
  }

  getAccountSettings(): ApiResponse {
    const store = this.#rt.store;
    let totalCodeSize = 0;
    for (const fn of this.#region.functions.values()) totalCodeSize += fn.config.codeSize;
    return {
      status: 200,
      body: {
        AccountLimit: {
          TotalCodeSize: 80530636800,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: store.account.concurrentExecutions,
          UnreservedConcurrentExecutions: store.unreservedConcurrency(this.#req.region),
        },
        AccountUsage: { TotalCodeSize: totalCodeSize, FunctionCount: this.#region.functions.size },
      },
    };
  }

  tags(api: string, resource: string): ApiResponse {
    const parsed = parseFunctionName(resource);
    const fn = this.#region.functions.get(parsed.name);
    if (!fn || !resource.startsWith('arn:')) {
      throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${resource}`);
    }
    settleUpdate(fn, this.#now());
    if (api === 'ListTags') return { status: 200, body: { Tags: { ...fn.tags } } };
    this.#assertNoUpdateInProgress(fn);
    if (api === 'TagResource') {
      const tags = stringMap(this.#req.body.Tags) ?? {};
      Object.assign(fn.tags, tags);
      if (Object.keys(tags).length > 0) fn.everTagged = true;
      return { status: 204 };
    }
    for (const key of this.#req.query.getAll('tagKeys')) delete fn.tags[key];
    return { status: 204 };
  }
}

/** `{ [key]: value }` for a non-empty string, `{}` otherwise (an optional field is absent, never undefined). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value ? ({ [key]: value } as { [P in K]: string }) : {};
}
