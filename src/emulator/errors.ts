/**
 * One error type for every AWS-style failure the emulator answers with; each protocol renders it its own way
 * (Lambda REST-JSON: `X-Amzn-Errortype` + `{Type, message}`; JSON 1.1: `{__type, message}`; query: XML).
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra members of the error body, e.g. `Reason` for TooManyRequestsException. */
  readonly fields: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    code: string,
    status: number,
    message: string,
    extra: { fields?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = code;
    this.code = code;
    this.status = status;
    this.fields = extra.fields ?? {};
    this.headers = extra.headers ?? {};
  }
}

/** HTTP status AWS uses for an error code, for faults injected by name. */
const STATUS_BY_CODE: Record<string, number> = {
  TooManyRequestsException: 429,
  ServiceException: 500,
  ResourceConflictException: 409,
  ResourceNotFoundException: 404,
  ProvisionedConcurrencyConfigNotFoundException: 404,
  InvalidParameterValueException: 400,
  ValidationException: 400,
  ResourceNotReadyException: 502,
  InternalServiceException: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  ConcurrentUpdateException: 400,
  ObjectNotFoundException: 400,
  LimitExceededException: 400,
  ThrottledException: 400,
  ThrottlingException: 400,
  InvalidParameterException: 400,
};

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? (/Internal|Service(Exception|Unavailable)/.test(code) ? 500 : 400);
}

export function throttled(retryAfterSeconds: number, code = 'TooManyRequestsException'): AwsError {
  return new AwsError(code, code === 'TooManyRequestsException' ? 429 : 400, 'Rate exceeded', {
    fields: code === 'TooManyRequestsException' ? { Reason: 'CallerRateLimitExceeded' } : {},
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

/** Smithy's range-constraint message, as Lambda returns it for out-of-range members. */
export function rangeViolation(member: string, value: number, min: number, max?: number): string | undefined {
  if (value < min) {
    return `Value '${value}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`;
  }
  if (max !== undefined && value > max) {
    return `Value '${value}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`;
  }
  return undefined;
}

export function validationError(violations: string[]): AwsError {
  const n = violations.length;
  return new AwsError(
    'ValidationException',
    400,
    `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`,
  );
}
