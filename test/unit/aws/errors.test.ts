import { ObjectNotFoundException, ValidationException } from '@aws-sdk/client-application-auto-scaling';
import {
  InvalidParameterValueException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { ThrottledException } from '@aws-sdk/client-resource-groups-tagging-api';
import { describe, expect, it } from 'vitest';
import {
  type AwsErrorCode,
  AwsRetryableError,
  AwsThrottledError,
  classifyAwsError,
  retryAfterMsOf,
} from '../../../src/aws/errors.ts';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** An error shaped like what the SDK throws for an unmodelled AWS error code. */
function sdkError(name: string, httpStatusCode?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    ...(httpStatusCode === undefined ? {} : meta(httpStatusCode)),
    ...extra,
  });
}

describe('classifyAwsError', () => {
  it.each<[string, unknown, AwsErrorCode]>([
    [
      'Lambda TooManyRequestsException',
      new TooManyRequestsException({ message: 'Rate exceeded', ...meta(429) }),
      'Throttled',
    ],
    ['AAS ThrottlingException (400)', sdkError('ThrottlingException', 400), 'Throttled'],
    ['tagging ThrottledException', new ThrottledException({ message: 'slow down', ...meta(400) }), 'Throttled'],
    ['bare HTTP 429', sdkError('UnknownError', 429), 'Throttled'],
    [
      'ResourceConflictException',
      new ResourceConflictException({ message: 'An update is in progress', ...meta(409) }),
      'Conflict',
    ],
    ['AAS ConcurrentUpdateException', sdkError('ConcurrentUpdateException', 400), 'Conflict'],
    ['PreconditionFailedException (stale RevisionId)', sdkError('PreconditionFailedException', 412), 'Conflict'],
    [
      'InvalidParameterValueException',
      new InvalidParameterValueException({
        message: 'decreases UnreservedConcurrentExecution below 100',
        ...meta(400),
      }),
      'Infeasible',
    ],
    ['AAS ValidationException', new ValidationException({ message: 'bad cron', ...meta(400) }), 'Infeasible'],
    ['RequestTooLargeException', sdkError('RequestTooLargeException', 413), 'Infeasible'],
    ['RequestEntityTooLargeException (413)', sdkError('RequestEntityTooLargeException', 413), 'Infeasible'],
    ['bare HTTP 413', sdkError('UnknownError', 413), 'Infeasible'],
    ['AccessDeniedException', sdkError('AccessDeniedException', 403), 'AccessDenied'],
    ['UnrecognizedClientException', sdkError('UnrecognizedClientException', 403), 'AccessDenied'],
    ['bare HTTP 403', sdkError('Forbidden', 403), 'AccessDenied'],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'Function not found', ...meta(404) }),
      'NotFound',
    ],
    [
      'ProvisionedConcurrencyConfigNotFoundException',
      new ProvisionedConcurrencyConfigNotFoundException({ message: 'No config', ...meta(404) }),
      'NotFound',
    ],
    ['AAS ObjectNotFoundException', new ObjectNotFoundException({ message: 'No action', ...meta(400) }), 'NotFound'],
    ['Lambda ServiceException (500)', new ServiceException({ message: 'internal', ...meta(500) }), 'Retryable'],
    ['bare HTTP 503', sdkError('ServiceUnavailable', 503), 'Retryable'],
    ['unmodelled 502', sdkError('BadGateway', 502), 'Retryable'],
    ['ECONNRESET', sdkError('Error', undefined, { code: 'ECONNRESET' }), 'Retryable'],
    [
      'ECONNREFUSED in cause',
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      'Retryable',
    ],
    ['TimeoutError without HTTP status', sdkError('TimeoutError'), 'Retryable'],
    ['unknown 400', sdkError('SomethingNewException', 400), 'Unexpected'],
    ['a string', 'boom', 'Unexpected'],
  ])('%s -> %s', (_label, input, code) => {
    // Act
    const classified = classifyAwsError(input, 'SomeApi');

    // Assert
    expect(classified.code).toBe(code);
    expect(classified.api).toBe('SomeApi');
    expect(classified.cause).toBe(input);
    expect(classified).toBeInstanceOf(Error);
  });

  it('keeps the AWS error code and HTTP status', () => {
    const e = classifyAwsError(new ResourceConflictException({ message: 'busy', ...meta(409) }), 'UpdateFunctionCode');
    expect(e.awsCode).toBe('ResourceConflictException');
    expect(e.httpStatus).toBe(409);
    expect(e.message).toContain('UpdateFunctionCode');
    expect(e.message).toContain('busy');
  });

  it('is idempotent: an AwsError is returned unchanged', () => {
    const once = classifyAwsError(sdkError('ServiceUnavailable', 503));
    expect(classifyAwsError(once)).toBe(once);
    expect(once).toBeInstanceOf(AwsRetryableError);
  });

  it('reads Retry-After from Lambda retryAfterSeconds', () => {
    const e = classifyAwsError(new TooManyRequestsException({ message: 'x', retryAfterSeconds: '2', ...meta(429) }));
    expect(e).toBeInstanceOf(AwsThrottledError);
    expect((e as AwsThrottledError).retryAfterMs).toBe(2_000);
  });

  it('reads Retry-After from the raw response header', () => {
    const err = sdkError('ThrottlingException', 400, {
      $response: { statusCode: 400, headers: { 'Retry-After': '1.5' } },
    });
    expect((classifyAwsError(err) as AwsThrottledError).retryAfterMs).toBe(1_500);
  });
});

describe('retryAfterMsOf', () => {
  it.each<[string, unknown, number | undefined]>([
    ['delta seconds', { retryAfterSeconds: '3' }, 3_000],
    ['zero', { retryAfterSeconds: '0' }, 0],
    ['HTTP date', { $response: { headers: { 'retry-after': new Date(10_000).toUTCString() } } }, 10_000],
    ['absurd values are capped at 5 minutes', { retryAfterSeconds: '86400' }, 300_000],
    ['garbage', { retryAfterSeconds: 'soon' }, undefined],
    ['negative', { retryAfterSeconds: '-1' }, undefined],
    ['absent', {}, undefined],
  ])('%s', (_label, err, expected) => {
    expect(retryAfterMsOf(err, 0)).toBe(expected);
  });
});
