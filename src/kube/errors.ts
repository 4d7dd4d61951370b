/**
 * The one error hierarchy of calls to the Kubernetes API, by HTTP status: whatever the call (status patch,
 * finalizer patch, Lease, list, watch, Event), a caller tells "gone" from "changed meanwhile" from "failed" the same
 * way, and the client-node exception stays reachable as the cause.
 */
export type KubeErrorCode = 'NotFound' | 'Conflict' | 'Gone' | 'Failed';

export class KubeApiError extends Error {
  override readonly name: string = 'KubeApiError';
  readonly code: KubeErrorCode;
  /** The HTTP status of the answer; undefined when there was none (connection refused, timeout). */
  readonly status: number | undefined;

  constructor(code: KubeErrorCode, message: string, options: { status?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/** 404: the object does not exist (any more). */
export class NotFoundError extends KubeApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('NotFound', message, { status: 404, cause: options.cause });
  }
}

/** 409: the object changed since it was read (stale resourceVersion) or already exists. */
export class ConflictError extends KubeApiError {
  override readonly name = 'ConflictError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('Conflict', message, { status: 409, cause: options.cause });
  }
}

/** 410: a watch or list continued from a resourceVersion the server no longer has. */
export class GoneError extends KubeApiError {
  override readonly name = 'GoneError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('Gone', message, { status: 410, cause: options.cause });
  }
}

/** The HTTP status of a client-node ApiException (`code`) or a watch error (`statusCode`), or undefined. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const o = error as { code?: unknown; statusCode?: unknown };
  if (typeof o.code === 'number') return o.code;
  if (typeof o.statusCode === 'number') return o.statusCode;
  return undefined;
}

/** `error` from a call described by `what`, as the hierarchy's class for its HTTP status. */
export function kubeError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const status = httpStatus(error);
  const detail = `${what}: ${status === undefined ? describe(error) : `HTTP ${status}`}`;
  if (status === 404) return new NotFoundError(`${what}: not found`, { cause: error });
  if (status === 409) return new ConflictError(`${what}: changed meanwhile`, { cause: error });
  if (status === 410) return new GoneError(`${what}: resource version expired`, { cause: error });
  return new KubeApiError('Failed', detail, { status, cause: error });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
