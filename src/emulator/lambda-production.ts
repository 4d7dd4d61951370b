/**
 * The production fields of Lambda as AWS serves them: LoggingConfig, TracingConfig, Environment, DeadLetterConfig
 * and Layers on a function's configuration, the EventInvokeConfig APIs and layer versions
 * (PublishLayerVersion, GetLayerVersion(ByArn)), with AWS's value ranges and error codes.
 */
import { createHash } from 'node:crypto';
import { AwsError, rangeViolation, validationError } from './errors.ts';
import type { ApiResponse } from './http-types.ts';
import { isRecord, num, str, stringList } from './http-types.ts';
import type {
  Architecture,
  EventInvokeRecord,
  FunctionConfig,
  FunctionRecord,
  LayerVersionRecord,
  LoggingRecord,
  RegionState,
} from './store.ts';

const APPLICATION_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const SYSTEM_LEVELS = ['DEBUG', 'INFO', 'WARN'];
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const LAYER_NAME = /^[A-Za-z0-9_-]{1,140}$/;
const LAYER_VERSION_ARN = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)$/;
const TARGET_ARN = /^(arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*))?$/;

function enumViolation(member: string, value: string, allowed: readonly string[]): string {
  return `Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`;
}

/**
 * LoggingConfig of CreateFunction/UpdateFunctionConfiguration applied to `current`. Levels need JSON (AWS answers
 * InvalidParameterValueException otherwise); JSON without levels gets AWS's defaults (INFO/INFO); Text drops them.
 */
export function applyLoggingConfig(current: LoggingRecord, raw: unknown): LoggingRecord {
  if (raw === undefined) return current;
  if (!isRecord(raw))
    throw validationError(["Value at 'loggingConfig' failed to satisfy constraint: Member must be a structure"]);
  const problems: string[] = [];
  const format = str(raw.LogFormat);
  const app = str(raw.ApplicationLogLevel);
  const sys = str(raw.SystemLogLevel);
  const group = str(raw.LogGroup);
  if (format !== undefined && format !== 'JSON' && format !== 'Text')
    problems.push(enumViolation('loggingConfig.logFormat', format, ['JSON', 'Text']));
  if (app !== undefined && !APPLICATION_LEVELS.includes(app))
    problems.push(enumViolation('loggingConfig.applicationLogLevel', app, APPLICATION_LEVELS));
  if (sys !== undefined && !SYSTEM_LEVELS.includes(sys))
    problems.push(enumViolation('loggingConfig.systemLogLevel', sys, SYSTEM_LEVELS));
  if (group !== undefined && !LOG_GROUP.test(group))
    problems.push(
      `Value '${group}' at 'loggingConfig.logGroup' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  if (problems.length > 0) throw validationError(problems);
  const nextFormat = (format ?? current.format) as 'JSON' | 'Text';
  if (nextFormat === 'Text' && (app !== undefined || sys !== undefined)) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      'Invalid LoggingConfig: ApplicationLogLevel and SystemLogLevel can only be set when LogFormat is JSON.',
    );
  }
  const next: LoggingRecord = { format: nextFormat, logGroup: group ?? current.logGroup };
  if (nextFormat === 'JSON') {
    next.applicationLogLevel = app ?? current.applicationLogLevel ?? 'INFO';
    next.systemLogLevel = sys ?? current.systemLogLevel ?? 'INFO';
  }
  return next;
}

export function tracingMode(raw: unknown, current: 'Active' | 'PassThrough'): 'Active' | 'PassThrough' {
  if (raw === undefined) return current;
  const mode = isRecord(raw) ? str(raw.Mode) : undefined;
  if (mode === undefined) return current;
  if (mode !== 'Active' && mode !== 'PassThrough') {
    throw validationError([enumViolation('tracingConfig.mode', mode, ['Active', 'PassThrough'])]);
  }
  return mode;
}

export function environmentOf(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const vars = isRecord(raw) && isRecord(raw.Variables) ? raw.Variables : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k)) {
      throw new AwsError('InvalidParameterValueException', 400, `Environment variable name ${k} is not valid.`);
    }
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|REGION|LAMBDA_.*)$/.test(k)) {
      throw new AwsError(
        'InvalidParameterValueException',
        400,
        `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${k}`,
      );
    }
    out[k] = String(v);
  }
  return out;
}

export function deadLetterOf(raw: unknown): string | undefined | null {
  if (raw === undefined) return undefined;
  const arn = isRecord(raw) ? (str(raw.TargetArn) ?? '') : '';
  if (!TARGET_ARN.test(arn)) {
    throw validationError([
      `Value '${arn}' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z0-9-]*):[a-z0-9-.]+:.*)|()`,
    ]);
  }
  // An empty TargetArn removes the dead-letter queue.
  return arn === '' ? null : arn;
}

export function layerByArn(region: RegionState, arn: string): LayerVersionRecord | undefined {
  const m = LAYER_VERSION_ARN.exec(arn);
  if (!m) return undefined;
  return region.layers.get(m[3] ?? '')?.find((l) => l.version === Number(m[4]));
}

/** Layers of CreateFunction/UpdateFunctionConfiguration: each must be an existing layer version (at most 5). */
export function layersOf(region: RegionState, raw: unknown): { arn: string; codeSize: number }[] | undefined {
  if (raw === undefined) return undefined;
  const arns = stringList(raw) ?? [];
  if (arns.length > 5)
    throw new AwsError('InvalidParameterValueException', 400, 'Cannot reference more than 5 layers.');
  return arns.map((arn) => {
    if (!LAYER_VERSION_ARN.test(arn)) {
      throw validationError([
        `Value '[${arns.join(', ')}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]`,
      ]);
    }
    const layer = layerByArn(region, arn);
    if (!layer) {
      throw new AwsError('InvalidParameterValueException', 400, `Layer version ${arn} does not exist.`);
    }
    return { arn, codeSize: layer.codeSize };
  });
}

/** The configuration view's production members (ListFunctions, GetFunction, updates). */
export function productionView(config: FunctionConfig): Record<string, unknown> {
  const lc = config.logging;
  const view: Record<string, unknown> = {
    TracingConfig: { Mode: config.tracing },
    LoggingConfig: {
      LogFormat: lc.format,
      LogGroup: lc.logGroup,
      ...(lc.applicationLogLevel ? { ApplicationLogLevel: lc.applicationLogLevel } : {}),
      ...(lc.systemLogLevel ? { SystemLogLevel: lc.systemLogLevel } : {}),
    },
  };
  if (config.environment !== undefined) view.Environment = { Variables: { ...config.environment } };
  if (config.deadLetterTarget !== undefined) view.DeadLetterConfig = { TargetArn: config.deadLetterTarget };
  if (config.layers.length > 0) view.Layers = config.layers.map((l) => ({ Arn: l.arn, CodeSize: l.codeSize }));
  return view;
}

// ---- EventInvokeConfig ----------------------------------------------------------------------------------------

function eventInvokeView(fn: FunctionRecord, qualifier: string, record: EventInvokeRecord): Record<string, unknown> {
  const destination: Record<string, unknown> = {};
  if (record.onSuccess) destination.OnSuccess = { Destination: record.onSuccess };
  if (record.onFailure) destination.OnFailure = { Destination: record.onFailure };
  return {
    FunctionArn: `${fn.arn}:${qualifier}`,
    LastModified: record.lastModified,
    ...(record.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: record.maximumRetryAttempts } : {}),
    ...(record.maximumEventAgeSeconds !== undefined ? { MaximumEventAgeInSeconds: record.maximumEventAgeSeconds } : {}),
    DestinationConfig: destination,
  };
}

function eventInvokeFields(body: Record<string, unknown>): Partial<EventInvokeRecord> {
  const out: Partial<EventInvokeRecord> = {};
  const problems: string[] = [];
  const retries = num(body.MaximumRetryAttempts);
  if (retries !== undefined) {
    const p = rangeViolation('maximumRetryAttempts', retries, 0, 2);
    if (p) problems.push(p);
    out.maximumRetryAttempts = retries;
  }
  const age = num(body.MaximumEventAgeInSeconds);
  if (age !== undefined) {
    const p = rangeViolation('maximumEventAgeInSeconds', age, 60, 21600);
    if (p) problems.push(p);
    out.maximumEventAgeSeconds = age;
  }
  if (problems.length > 0) throw validationError(problems);
  const dc = isRecord(body.DestinationConfig) ? body.DestinationConfig : undefined;
  if (dc) {
    const onSuccess = isRecord(dc.OnSuccess) ? str(dc.OnSuccess.Destination) : undefined;
    const onFailure = isRecord(dc.OnFailure) ? str(dc.OnFailure.Destination) : undefined;
    for (const d of [onSuccess, onFailure]) {
      if (d !== undefined && !/^arn:aws[a-z-]*:(sqs|sns|lambda|events|s3):/.test(d)) {
        throw new AwsError('InvalidParameterValueException', 400, `The destination ARN ${d} is invalid.`);
      }
    }
    if (onSuccess) out.onSuccess = onSuccess;
    if (onFailure) out.onFailure = onFailure;
  }
  return out;
}

function qualifierFor(fn: FunctionRecord, qualifier: string | undefined): string {
  const q = qualifier ?? '$LATEST';
  if (q !== '$LATEST' && !fn.versions.has(q) && !fn.aliases.has(q)) {
    throw new AwsError('ResourceNotFoundException', 404, `Function not found: ${fn.arn}:${q}`);
  }
  return q;
}

function noConfig(fn: FunctionRecord, qualifier: string): AwsError {
  return new AwsError(
    'ResourceNotFoundException',
    404,
    `The function ${fn.arn}:${qualifier} doesn't have an EventInvokeConfig`,
  );
}

export function eventInvokeApi(
  api: string,
  fn: FunctionRecord,
  rawQualifier: string | undefined,
  body: Record<string, unknown>,
  query: URLSearchParams,
  nowMs: number,
): ApiResponse | undefined {
  switch (api) {
    case 'PutFunctionEventInvokeConfig': {
      const q = qualifierFor(fn, rawQualifier);
      // Put replaces the whole config: what the request leaves out is gone.
      const record: EventInvokeRecord = { ...eventInvokeFields(body), lastModified: nowMs / 1000 };
      fn.eventInvoke.set(q, record);
      return { status: 200, body: eventInvokeView(fn, q, record) };
    }
    case 'UpdateFunctionEventInvokeConfig': {
      const q = qualifierFor(fn, rawQualifier);
      const existing = fn.eventInvoke.get(q);
      if (!existing) throw noConfig(fn, q);
      const record: EventInvokeRecord = { ...existing, ...eventInvokeFields(body), lastModified: nowMs / 1000 };
      fn.eventInvoke.set(q, record);
      return { status: 200, body: eventInvokeView(fn, q, record) };
    }
    case 'GetFunctionEventInvokeConfig': {
      const q = qualifierFor(fn, rawQualifier);
      const existing = fn.eventInvoke.get(q);
      if (!existing) throw noConfig(fn, q);
      return { status: 200, body: eventInvokeView(fn, q, existing) };
    }
    case 'DeleteFunctionEventInvokeConfig': {
      const q = qualifierFor(fn, rawQualifier);
      if (!fn.eventInvoke.delete(q)) throw noConfig(fn, q);
      return { status: 204 };
    }
    case 'ListFunctionEventInvokeConfigs': {
      const raw = query.get('MaxItems');
      const max = raw === null ? 50 : Number(raw);
      const p = Number.isInteger(max) ? rangeViolation('maxItems', max, 1, 50) : 'MaxItems must be an integer';
      if (p) throw validationError([p]);
      const all = [...fn.eventInvoke.keys()].sort();
      const marker = query.get('Marker');
      const start = marker ? all.indexOf(marker) + 1 : 0;
      const page = all.slice(start, start + max);
      const items = page.map((q) => eventInvokeView(fn, q, fn.eventInvoke.get(q) as EventInvokeRecord));
      const last = page.at(-1);
      return {
        status: 200,
        body: {
          FunctionEventInvokeConfigs: items,
          ...(start + max < all.length && last ? { NextMarker: last } : {}),
        },
      };
    }
  }
  return undefined;
}

// ---- layers ---------------------------------------------------------------------------------------------------

function layerView(layer: LayerVersionRecord, baseUrl: string): Record<string, unknown> {
  return {
    LayerArn: layer.arn.replace(/:\d+$/, ''),
    LayerVersionArn: layer.arn,
    Version: layer.version,
    Description: '',
    CreatedDate: layer.createdDate,
    CompatibleArchitectures: [...layer.compatibleArchitectures],
    CompatibleRuntimes: [...layer.compatibleRuntimes],
    Content: {
      CodeSize: layer.codeSize,
      CodeSha256: layer.codeSha256,
      Location: `${baseUrl}/_emulator/layers/${encodeURIComponent(layer.name)}/${layer.version}`,
    },
  };
}

export function architecturesOf(raw: unknown): Architecture[] {
  const list = raw === undefined ? [] : (stringList(raw) ?? []);
  if (list.length > 2 || list.some((a) => a !== 'x86_64' && a !== 'arm64')) {
    throw validationError([
      `Value '[${list.join(', ')}]' at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2, Member must satisfy enum value set: [x86_64, arm64]`,
    ]);
  }
  return list as Architecture[];
}

/** Adds a layer version (PublishLayerVersion and seeds). */
export function publishLayer(
  region: RegionState,
  accountId: string,
  regionName: string,
  name: string,
  spec: { compatibleArchitectures: Architecture[]; compatibleRuntimes?: string[]; codeSize: number; content?: Buffer },
  nowMs: number,
): LayerVersionRecord {
  if (!LAYER_NAME.test(name)) {
    throw validationError([
      `Value '${name}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`,
    ]);
  }
  const versions = region.layers.get(name) ?? [];
  const version = versions.length + 1;
  const record: LayerVersionRecord = {
    name,
    version,
    arn: `arn:aws:lambda:${regionName}:${accountId}:layer:${name}:${version}`,
    compatibleArchitectures: spec.compatibleArchitectures,
    compatibleRuntimes: spec.compatibleRuntimes ?? [],
    codeSize: spec.codeSize,
    codeSha256: createHash('sha256')
      .update(spec.content ?? `${name}:${version}`)
      .digest('base64'),
    createdDate: new Date(nowMs).toISOString().replace('Z', '+0000'),
  };
  versions.push(record);
  region.layers.set(name, versions);
  return record;
}

export function layerApi(
  api: string,
  region: RegionState,
  accountId: string,
  regionName: string,
  layerName: string | undefined,
  version: string | undefined,
  body: Record<string, unknown>,
  query: URLSearchParams,
  baseUrl: string,
  nowMs: number,
): ApiResponse | undefined {
  switch (api) {
    case 'PublishLayerVersion': {
      const content = isRecord(body.Content) ? body.Content : {};
      const zip = str(content.ZipFile);
      if (!zip && !(str(content.S3Bucket) && str(content.S3Key))) {
        throw new AwsError('InvalidParameterValueException', 400, 'Please provide a source for layer content.');
      }
      const bytes = zip
        ? Buffer.from(zip, 'base64')
        : Buffer.from(`s3://${str(content.S3Bucket)}/${str(content.S3Key)}`);
      const layer = publishLayer(
        region,
        accountId,
        regionName,
        layerName ?? '',
        {
          compatibleArchitectures: architecturesOf(body.CompatibleArchitectures),
          compatibleRuntimes: stringList(body.CompatibleRuntimes) ?? [],
          codeSize: bytes.length,
          content: bytes,
        },
        nowMs,
      );
      return { status: 201, body: layerView(layer, baseUrl) };
    }
    case 'GetLayerVersionByArn': {
      const arn = query.get('Arn') ?? '';
      if (!LAYER_VERSION_ARN.test(arn)) {
        throw validationError([
          `Value '${arn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`,
        ]);
      }
      const layer = layerByArn(region, arn);
      if (!layer) throw new AwsError('ResourceNotFoundException', 404, 'The resource you requested does not exist.');
      return { status: 200, body: layerView(layer, baseUrl) };
    }
    case 'GetLayerVersion': {
      const layer = region.layers.get(layerName ?? '')?.find((l) => String(l.version) === version);
      if (!layer) throw new AwsError('ResourceNotFoundException', 404, 'The resource you requested does not exist.');
      return { status: 200, body: layerView(layer, baseUrl) };
    }
  }
  return undefined;
}
