/**
 * Typed AWS errors. Every SDK failure the adapters see is turned into one of these by `classifyAwsError`, so the
 * retry layer, the executor and the controller decide on a `code` instead of string-matching SDK exception names
 * all over the code base. The original SDK error is always kept as `cause`.
 */

export type AwsErrorCode =
  | 'Retryable'
  | 'Throttled'
  | 'Conflict'
  | 'Infeasible'
  | 'AccessDenied'
  | 'NotFound'
  | 'UpdateFailed'
  | 'WaitTimeout'
  | 'Unexpected';

export interface AwsErrorDetails {
  /** The AWS error code (SDK exception name), e.g. `TooManyRequestsException`; `NetworkError` for transport errors. */
  awsCode?: string | undefined;
  httpStatus?: number | undefined;
  /** The operation, e.g. `UpdateFunctionConfiguration`, when known. */
  api?: string | undefined;
}

export abstract class AwsError extends Error {
  abstract readonly code: AwsErrorCode;
  readonly awsCode: string | undefined;
  readonly httpStatus: number | undefined;
  api: string | undefined;

  constructor(message: string, cause?: unknown, details: AwsErrorDetails = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.awsCode = details.awsCode;
    this.httpStatus = details.httpStatus;
    this.api = details.api;
  }
}

/** Transient server or network failure (5xx, connection reset, timeout): safe to retry a bounded number of times. */
export class AwsRetryableError extends AwsError {
  override readonly name = 'AwsRetryableError';
  readonly code = 'Retryable';
}

/** AWS throttled the call (429 / TooManyRequestsException / ThrottlingException / ThrottledException). */
export class AwsThrottledError extends AwsError {
  override readonly name = 'AwsThrottledError';
  readonly code = 'Throttled';
  /** From the `Retry-After` header (or Lambda's `retryAfterSeconds`), when AWS sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, cause?: unknown, details: AwsErrorDetails & { retryAfterMs?: number | undefined } = {}) {
    super(message, cause, details);
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** The resource is busy (ResourceConflictException: an update is in progress) or changed under us. */
export class AwsConflictError extends AwsError {
  override readonly name = 'AwsConflictError';
  readonly code = 'Conflict';
}

/**
 * AWS refuses the value (InvalidParameterValueException, ValidationException, ...) or the adapter knows up front it
 * would: retrying cannot help. `reason` is a short machine-readable word for status (e.g. `ImageArchitecture`).
 */
export class AwsInfeasibleError extends AwsError {
  override readonly name = 'AwsInfeasibleError';
  readonly code = 'Infeasible';
  readonly reason: string;

  constructor(message: string, cause?: unknown, details: AwsErrorDetails & { reason?: string | undefined } = {}) {
    super(message, cause, details);
    this.reason = details.reason ?? details.awsCode ?? 'Infeasible';
  }
}

/** Credentials or IAM deny the call. Never retried: retrying AccessDenied only adds to the throttling storm. */
export class AwsAccessDeniedError extends AwsError {
  override readonly name = 'AwsAccessDeniedError';
  readonly code = 'AccessDenied';
}

/** The function, qualifier, provisioned-concurrency config or scheduled action does not exist. */
export class AwsNotFoundError extends AwsError {
  override readonly name = 'AwsNotFoundError';
  readonly code = 'NotFound';
}

/** An asynchronous function update ended with `LastUpdateStatus: Failed`; the old configuration stays. */
export class AwsUpdateFailedError extends AwsError {
  override readonly name = 'AwsUpdateFailedError';
  readonly code = 'UpdateFailed';
  readonly reasonCode: string | undefined;

  constructor(message: string, details: AwsErrorDetails & { reasonCode?: string | undefined } = {}) {
    super(message, undefined, details);
    this.reasonCode = details.reasonCode;
  }
}

/** A function stayed `InProgress`/`Pending` longer than the waiter allows. */
export class AwsWaitTimeoutError extends AwsError {
  override readonly name = 'AwsWaitTimeoutError';
  readonly code = 'WaitTimeout';
}

/** Anything else: a client-side 4xx we do not know. Not retried. */
export class AwsUnexpectedError extends AwsError {
  override readonly name = 'AwsUnexpectedError';
  readonly code = 'Unexpected';
}

const THROTTLING_CODES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'ThrottledException',
  'Throttling',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const CONFLICT_CODES = new Set([
  'ResourceConflictException',
  'ResourceInUseException',
  'ConcurrentUpdateException',
  // RevisionId no longer matches: someone changed the function between our read and our write.
  'PreconditionFailedException',
]);

const INFEASIBLE_CODES = new Set([
  'InvalidParameterValueException',
  'ValidationException',
  'InvalidParameterException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'CodeStorageExceededException',
  'LimitExceededException',
  'UnsupportedMediaTypeException',
]);

const ACCESS_DENIED_CODES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationTokenException',
  'FailedResourceAccessException',
  'CredentialsProviderError',
]);

const NOT_FOUND_CODES = new Set([
  'ResourceNotFoundException',
  'ProvisionedConcurrencyConfigNotFoundException',
  'ObjectNotFoundException',
  'NotFoundException',
]);

const RETRYABLE_CODES = new Set([
  'ServiceException',
  'InternalServiceException',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ResourceNotReadyException',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

/** Node/undici transport error codes that mean "the request may not have reached AWS; try again". */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function stringField(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function httpStatusOf(err: Record<string, unknown>): number | undefined {
  const meta = err.$metadata;
  if (isRecord(meta) && typeof meta.httpStatusCode === 'number') return meta.httpStatusCode;
  const response = err.$response;
  if (isRecord(response) && typeof response.statusCode === 'number') return response.statusCode;
  return undefined;
}

function headerOf(err: Record<string, unknown>, name: string): string | undefined {
  const response = err.$response;
  if (!isRecord(response) || !isRecord(response.headers)) return undefined;
  for (const [key, value] of Object.entries(response.headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * Retry-After as milliseconds: Lambda models it as `retryAfterSeconds`; other services only send the header, either
 * as delta-seconds or an HTTP date. Absurd values are capped at 5 minutes so one bad header cannot stall a bucket.
 */
export function retryAfterMsOf(err: unknown, nowMs: number = Date.now()): number | undefined {
  if (!isRecord(err)) return undefined;
  const raw = stringField(err, 'retryAfterSeconds') ?? headerOf(err, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  let ms: number | undefined;
  if (Number.isFinite(seconds)) ms = seconds * 1000;
  else {
    const at = Date.parse(raw);
    if (Number.isFinite(at)) ms = at - nowMs;
  }
  if (ms === undefined || ms < 0) return undefined;
  return Math.min(ms, 300_000);
}

function networkCodeOf(err: Record<string, unknown>): string | undefined {
  const code = stringField(err, 'code');
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return code;
  const cause = err.cause;
  if (isRecord(cause)) {
    const causeCode = stringField(cause, 'code');
    if (causeCode !== undefined && NETWORK_ERROR_CODES.has(causeCode)) return causeCode;
  }
  return undefined;
}

/**
 * Maps any error thrown by an SDK call (or the transport below it) to a typed AwsError. Idempotent: an AwsError is
 * returned as it is. Order matters: throttling is recognised before the generic 4xx/5xx rules because AWS sends
 * some throttles as 400 (ThrottlingException) and some as 429 without a modelled name.
 */
export function classifyAwsError(err: unknown, api?: string): AwsError {
  if (err instanceof AwsError) {
    if (api !== undefined && err.api === undefined) err.api = api;
    return err;
  }
  if (!isRecord(err)) return new AwsUnexpectedError(`AWS call failed: ${String(err)}`, err, { api });

  const name = stringField(err, 'name') ?? 'Error';
  const errCode = stringField(err, 'Code') ?? stringField(err, 'code');
  const awsCode = THROTTLING_CODES.has(errCode ?? '') ? errCode : name;
  const httpStatus = httpStatusOf(err);
  const message = stringField(err, 'message') ?? stringField(err, 'Message') ?? name;
  const text = `${api === undefined ? '' : `${api}: `}${awsCode}: ${message}`;
  const details = { awsCode, httpStatus, api };

  if (THROTTLING_CODES.has(name) || THROTTLING_CODES.has(errCode ?? '') || httpStatus === 429) {
    return new AwsThrottledError(text, err, { ...details, retryAfterMs: retryAfterMsOf(err) });
  }
  if (CONFLICT_CODES.has(name) || httpStatus === 409) return new AwsConflictError(text, err, details);
  if (NOT_FOUND_CODES.has(name)) return new AwsNotFoundError(text, err, details);
  if (ACCESS_DENIED_CODES.has(name) || httpStatus === 403 || httpStatus === 401) {
    return new AwsAccessDeniedError(text, err, details);
  }
  // Lambda answers 413 RequestEntityTooLargeException for a request body above its limit (a direct ZipFile upload
  // base64-encoded in JSON, or too large a configuration): the same request is too large again, never retried.
  if (name === 'RequestEntityTooLargeException' || httpStatus === 413) {
    return new AwsInfeasibleError(text, err, { ...details, reason: 'RequestTooLarge' });
  }
  if (INFEASIBLE_CODES.has(name)) return new AwsInfeasibleError(text, err, details);
  if (RETRYABLE_CODES.has(name)) return new AwsRetryableError(text, err, details);

  const networkCode = networkCodeOf(err);
  if (networkCode !== undefined) {
    return new AwsRetryableError(text, err, { awsCode: 'NetworkError', httpStatus, api });
  }
  if (httpStatus !== undefined && httpStatus >= 500) return new AwsRetryableError(text, err, details);
  if (httpStatus === 404) return new AwsNotFoundError(text, err, details);
  // Too large once is too large again: not retried.
  if (name === 'ResponseTooLargeError' || /-byte limit$/.test(message))
    return new AwsUnexpectedError(text, err, details);
  // An answer that is not the JSON it claims to be (cut off, or a proxy's page) is a transport failure: a read may
  // be sent again; a write is not (the rate limiter only re-sends writes after AWS's own transient errors).
  if (name === 'SyntaxError' || /Deserialization error/.test(message)) {
    return new AwsRetryableError(text, err, { awsCode: 'UnparsableResponse', httpStatus, api });
  }
  // The SDK reports a socket/timeout problem with no HTTP status at all and `$metadata` unset.
  if (
    httpStatus === undefined &&
    (name === 'AbortError' || name === 'TimeoutError' || /socket hang up/i.test(message))
  ) {
    return new AwsRetryableError(text, err, { awsCode: 'NetworkError', api });
  }
  return new AwsUnexpectedError(text, err, details);
}
