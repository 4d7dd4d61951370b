/**
 * The HTTP front door: works out which AWS service a request is for (X-Amz-Target for JSON 1.1, the SigV4
 * credential scope for query/REST), its region, and runs it through the same pipeline for every API:
 * count → quota → latency/fault → handler → write log → render in that protocol's error/response format.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminAccount, assumeRoleAccount, callerAccount } from './accounts.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin-api.ts';
import { AUTOSCALING_TARGET_PREFIX, routeAutoscaling } from './autoscaling-api.ts';
import { AwsError, throttled } from './errors.ts';
import { type BrokenAnswer, breakAnswer } from './faults.ts';
import type { ApiRequest, ApiResponse, Operation } from './http-types.ts';
import { isRecord } from './http-types.ts';
import { routeLambda } from './lambda-api.ts';
import { LOGS_TARGET_PREFIX, routeLogs } from './logs-api.ts';
import { ORGANIZATIONS_TARGET_PREFIX, routeOrganizations } from './organizations-api.ts';
import { bucketFor } from './quotas.ts';
import type { EmulatorRuntime } from './runtime.ts';
import { isMutating } from './runtime.ts';
import { routeSts, stsErrorXml } from './sts-api.ts';
import { routeTagging, TAGGING_TARGET_PREFIX } from './tagging-api.ts';

type Service = 'lambda' | 'autoscaling' | 'tagging' | 'sts' | 'logs' | 'organizations';

const MAX_BODY_BYTES = 80 * 1024 * 1024;
/**
 * Lambda's front door refuses a code upload whose request (the zip base64-encoded inside JSON) is not smaller than
 * this, with 413 RequestEntityTooLargeException; the 50 MB zipped quota is what that limit comes to.
 */
export const LAMBDA_CODE_REQUEST_LIMIT = 69_905_067;
const CODE_UPLOAD_APIS = new Set(['CreateFunction', 'UpdateFunctionCode', 'PublishLayerVersion']);
const DEFAULT_REGION = 'us-east-1';

/**
 * Access key, region and service from
 * `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-central-1/lambda/aws4_request`. The access key is
 * kept for the write log, so tests can tell which of several clients (e.g. two controller replicas) wrote.
 */
export function credentialScope(
  authorization: string | undefined,
): { accessKeyId: string; region: string; service: string } | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1] ?? '', region: m[2] ?? DEFAULT_REGION, service: m[3] ?? '' } : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new AwsError('RequestTooLargeException', 413, 'Request must be smaller than 80 MB');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, response: ApiResponse, requestId: string, service: Service | 'admin'): void {
  const headers: Record<string, string> = { 'x-amzn-RequestId': requestId, ...(response.headers ?? {}) };
  let payload: Buffer | string = '';
  if (response.raw !== undefined) {
    payload = response.raw;
    headers['Content-Type'] = response.contentType ?? 'application/octet-stream';
  } else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['Content-Type'] =
      service === 'autoscaling' || service === 'tagging' || service === 'logs' || service === 'organizations'
        ? 'application/x-amz-json-1.1'
        : 'application/json';
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

function jsonType(service: Service): string {
  return service === 'autoscaling' || service === 'tagging' || service === 'logs' || service === 'organizations'
    ? 'application/x-amz-json-1.1'
    : 'application/json';
}

function sendBroken(res: ServerResponse, answer: BrokenAnswer, requestId: string): void {
  if (answer.kind === 'hang') return;
  if (answer.kind === 'trickle') {
    res.writeHead(answer.status, { 'x-amzn-RequestId': requestId, 'Content-Type': answer.contentType });
    res.write('{');
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
    return;
  }
  res.writeHead(answer.status, {
    'x-amzn-RequestId': requestId,
    'Content-Type': answer.contentType,
    'Content-Length': String(Buffer.byteLength(answer.payload)),
  });
  res.end(answer.payload);
}

function errorResponse(error: AwsError, service: Service | 'admin', requestId: string): ApiResponse {
  const headers = { 'X-Amzn-Errortype': error.code, ...error.headers };
  if (service === 'sts') {
    return { status: error.status, raw: stsErrorXml(error, requestId), contentType: 'text/xml', headers };
  }
  if (service === 'lambda') {
    // Lambda's error shapes use `message` (ResourceNotFoundException's model says `Message`): send both.
    return {
      status: error.status,
      headers,
      body: {
        Type: error.status >= 500 ? 'Service' : 'User',
        message: error.message,
        Message: error.message,
        ...error.fields,
      },
    };
  }
  if (service === 'admin') return { status: error.status, body: { error: error.code, message: error.message } };
  return { status: error.status, headers, body: { __type: error.code, message: error.message, ...error.fields } };
}

const DEFAULT_ERROR: Record<Service, string> = {
  lambda: 'ServiceException',
  autoscaling: 'InternalServiceException',
  tagging: 'InternalServiceException',
  sts: 'InternalFailure',
  logs: 'ServiceUnavailableException',
  organizations: 'ServiceException',
};

function summariseParams(body: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [k, v] of query) params[k] = v;
  // Code packages are summarised: the log is for reading, not for replaying uploads.
  const zipSummary = (v: string) => ({ bytes: Buffer.from(v, 'base64').length });
  for (const [k, v] of Object.entries(body)) {
    if (k === 'ZipFile' && typeof v === 'string') params[k] = zipSummary(v);
    // Environment values may be credentials: the log keeps the names only.
    else if (k === 'Environment' && isRecord(v) && isRecord(v.Variables))
      params[k] = { Variables: Object.fromEntries(Object.keys(v.Variables).map((name) => [name, '(redacted)'])) };
    else if (k === 'Code' && isRecord(v) && typeof v.ZipFile === 'string')
      params[k] = { ...v, ZipFile: zipSummary(v.ZipFile) };
    else params[k] = v;
  }
  return params;
}

export function createRequestHandler(rt: EmulatorRuntime) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    let service: Service | 'admin' = 'lambda';
    try {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const method = req.method ?? 'GET';
      const raw = await readBody(req);
      if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) {
        service = 'admin';
        const text = raw.toString('utf8');
        let body: unknown = {};
        if (text.trim()) {
          try {
            body = JSON.parse(text);
          } catch {
            throw new AwsError('BadRequest', 400, 'admin bodies are JSON');
          }
        }
        const target = adminAccount(rt, url.searchParams.get('account'));
        send(res, handleAdmin(target, method, url.pathname, url.searchParams, body), requestId, service);
        return;
      }

      const scope = credentialScope(req.headers.authorization);
      const region = scope?.region ?? DEFAULT_REGION;
      const target = String(req.headers['x-amz-target'] ?? '');
      const contentType = String(req.headers['content-type'] ?? '');
      const isSts =
        !target &&
        (scope?.service === 'sts' || (contentType.includes('x-www-form-urlencoded') && url.pathname === '/'));
      if (isSts) service = 'sts';
      else if (target.startsWith(AUTOSCALING_TARGET_PREFIX)) service = 'autoscaling';
      else if (target.startsWith(TAGGING_TARGET_PREFIX)) service = 'tagging';
      else if (target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) service = 'organizations';
      // The signing key picks the account: every API below runs against that account's runtime.
      const caller = callerAccount(rt, scope?.accessKeyId, isSts);
      const home = rt;
      let acct = caller.runtime;
      const text = raw.toString('utf8');
      let body: Record<string, unknown> = {};
      let op: Operation | undefined;
      const host = req.headers.host ?? `127.0.0.1:${(req.socket.localPort ?? 0).toString()}`;
      const apiReq = (parsed: Record<string, unknown>): ApiRequest => ({
        method,
        path: url.pathname,
        query: url.searchParams,
        body: parsed,
        rawBody: raw,
        region,
        baseUrl: `http://${host}`,
      });

      if (target.startsWith(ORGANIZATIONS_TARGET_PREFIX)) {
        // Organizations is global: its calls land on the caller's account (counts, faults), its data is the home's.
        service = 'organizations';
        body = parseJson(text);
        op = routeOrganizations(home, acct, apiReq(body), target);
        if (!op) throw new AwsError('UnknownOperationException', 400, `Operation ${target} is not supported`);
      } else if (target.startsWith(LOGS_TARGET_PREFIX)) {
        service = 'logs';
        body = parseJson(text);
        op = routeLogs(acct, apiReq(body), target);
        if (!op) throw new AwsError('UnknownOperationException', 400, `Operation ${target} is not supported`);
      } else if (target.startsWith(AUTOSCALING_TARGET_PREFIX) || target.startsWith(TAGGING_TARGET_PREFIX)) {
        service = target.startsWith(AUTOSCALING_TARGET_PREFIX) ? 'autoscaling' : 'tagging';
        body = parseJson(text);
        op =
          service === 'autoscaling'
            ? routeAutoscaling(acct, apiReq(body), target)
            : routeTagging(acct, apiReq(body), target);
        if (!op) throw new AwsError('UnknownOperationException', 400, `Operation ${target} is not supported`);
      } else if (isSts) {
        const form = new URLSearchParams(text);
        op = routeSts(home, form, caller.session);
        // AssumeRole is answered by the role's account, so that account's STS faults and counts apply.
        if (form.get('Action') === 'AssumeRole') acct = assumeRoleAccount(home, form);
      } else {
        service = 'lambda';
        body = parseJson(text);
        op = routeLambda(acct, apiReq(body));
        if (!op)
          throw new AwsError('UnknownOperationException', 404, `No Lambda operation for ${method} ${url.pathname}`);
        if (CODE_UPLOAD_APIS.has(op.api) && raw.length >= LAMBDA_CODE_REQUEST_LIMIT) {
          throw new AwsError(
            'RequestEntityTooLargeException',
            413,
            `Request must be smaller than ${LAMBDA_CODE_REQUEST_LIMIT} bytes for the ${op.api} operation`,
          );
        }
      }

      const response = await runOperation(acct, service, region, op, body, url.searchParams, scope?.accessKeyId);
      // Faults are per account (the admin API's `account`), as the injected errors and latency of runOperation are.
      const broken = acct.faults.answerFor(op.api, region);
      if (broken) sendBroken(res, breakAnswer(broken, response.status, response.body, jsonType(service)), requestId);
      else send(res, response, requestId, service);
    } catch (error) {
      const awsError =
        error instanceof AwsError
          ? error
          : new AwsError(DEFAULT_ERROR[service === 'admin' ? 'lambda' : service], 500, (error as Error).message, {
              cause: error,
            });
      if (!res.headersSent) send(res, errorResponse(awsError, service, requestId), requestId, service);
      else res.destroy();
    }
  };
}

function parseJson(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch (cause) {
    throw new AwsError('SerializationException', 400, 'Request body is not valid JSON', { cause });
  }
}

async function runOperation(
  rt: EmulatorRuntime,
  service: Service,
  region: string,
  op: Operation,
  body: Record<string, unknown>,
  query: URLSearchParams,
  accessKeyId: string | undefined,
): Promise<ApiResponse> {
  rt.countCall(region, op.api);
  // Scheduled actions due by now fire before the call sees the state (the real-time timer may lag a tick).
  rt.fireDue();
  const mutating = isMutating(op.api);
  const log = (error?: AwsError) => {
    if (!mutating) return;
    rt.logWrite({
      region,
      api: op.api,
      ...(op.functionName ? { function: op.functionName } : {}),
      ...(op.resourceId ? { resourceId: op.resourceId } : {}),
      ...(accessKeyId ? { accessKeyId } : {}),
      params: summariseParams(body, query),
      ok: error === undefined,
      ...(error ? { error: error.code } : {}),
    });
  };
  try {
    const bucket = bucketFor(service, op.api);
    const retryAfter = bucket ? rt.quotas.take(region, bucket) : undefined;
    if (retryAfter !== undefined) {
      rt.countThrottled(op.api);
      throw throttled(retryAfter, service === 'lambda' ? 'TooManyRequestsException' : 'ThrottlingException');
    }
    const latency = rt.faults.latencyFor(op.api);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const injected = rt.faults.errorFor(op.api, region, DEFAULT_ERROR[service]);
    if (injected) {
      rt.countFaulted(op.api);
      throw injected;
    }
    const response = op.run();
    log();
    return response;
  } catch (error) {
    if (error instanceof AwsError) log(error);
    throw error;
  }
}
