/**
 * Fault injection: latency, a random error rate per API, and a one-shot list of forced errors, so tests can make
 * the controller meet throttling, conflicts and outages on demand. Randomness is seeded for repeatable runs.
 */
import { AwsError, statusForCode } from './errors.ts';

export interface ForcedError {
  /** API name (`UpdateFunctionConfiguration`) or `*` for any. */
  api: string;
  /** AWS error code, e.g. TooManyRequestsException. */
  error: string;
  /** How many calls fail (default 1). */
  count?: number;
  status?: number;
  message?: string;
  region?: string;
  /** For TooManyRequestsException: the Retry-After header (default 1). */
  retryAfterSeconds?: number;
}

/** An update that is accepted but ends `LastUpdateStatus: Failed` (the old configuration stays). */
export interface FailedUpdate {
  api: 'UpdateFunctionConfiguration' | 'UpdateFunctionCode' | '*';
  function?: string;
  count?: number;
  reason?: string;
}

/** A provisioned-concurrency allocation that is accepted (IN_PROGRESS) and then ends FAILED with a StatusReason. */
export interface FailedProvisioned {
  function?: string;
  qualifier?: string;
  count?: number;
  reason?: string;
}

/**
 * A broken answer, as a flaky proxy, a load balancer or a buggy service version could send one. The operation
 * itself runs (a write is applied and logged); only what the client receives is broken.
 *  - `set` / `delete`: a field of the JSON answer, by a dotted path where `*` means every element of an array
 *    (`Functions.*.MemorySize`); `value` may be any JSON (null, a string where a number belongs, a huge string).
 *  - `truncate`: the JSON cut in the middle; `html`: a 502 HTML page from "a proxy"; `empty`: 200 with no body.
 *  - `repeatToken`: the answer's pagination token (NextMarker / NextToken / PaginationToken) replaced by `value`
 *    (default "loop"), so a client that follows it is sent the same page over and over.
 *  - `hang`: the connection is accepted and never answered; `trickle`: headers, then one byte every 100 ms.
 */
export type AnswerFaultKind = 'set' | 'delete' | 'truncate' | 'html' | 'empty' | 'repeatToken' | 'hang' | 'trickle';

export interface AnswerFault {
  api: string;
  kind: AnswerFaultKind;
  path?: string;
  value?: unknown;
  region?: string;
  /** Answers broken (default 1). */
  count?: number;
  /** Matching answers let through unbroken first (default 0), e.g. to break only a re-check. */
  skip?: number;
}

export interface FaultOptions {
  /** Probability 0..1 that a call to the API fails; key `*` applies to every API. */
  errorRate?: Record<string, number>;
  /** The error code random failures use (default per service: ServiceException / InternalServiceException). */
  errorCode?: string;
  /** Added latency in ms: one number for every API, or per API (`*` default). */
  latencyMs?: number | Record<string, number>;
  forced?: ForcedError[];
  failUpdates?: FailedUpdate[];
  failProvisioned?: FailedProvisioned[];
  answers?: AnswerFault[];
  /** Seed for the random error rate. */
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  #options: FaultOptions = {};
  #random: () => number = mulberry32(1);

  configure(options: FaultOptions): void {
    this.#options = {
      ...options,
      forced: (options.forced ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
      failUpdates: (options.failUpdates ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
      failProvisioned: (options.failProvisioned ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
      answers: (options.answers ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
    };
    this.#random = mulberry32(options.seed ?? 1);
  }

  describe(): FaultOptions {
    return structuredClone(this.#options);
  }

  latencyFor(api: string): number {
    const latency = this.#options.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency[api] ?? latency['*'] ?? 0;
  }

  /** The error this call must fail with, if any (consumes one forced error). */
  errorFor(api: string, region: string, defaultCode: string): AwsError | undefined {
    const forced = this.#options.forced ?? [];
    const index = forced.findIndex(
      (f) => (f.api === api || f.api === '*') && (f.region === undefined || f.region === region) && (f.count ?? 0) > 0,
    );
    const hit = forced[index];
    if (hit) {
      hit.count = (hit.count ?? 1) - 1;
      if (hit.count <= 0) forced.splice(index, 1);
      return injectedError(hit.error, hit.status, hit.message, hit.retryAfterSeconds);
    }
    const rates = this.#options.errorRate;
    const rate = rates?.[api] ?? rates?.['*'];
    if (rate !== undefined && rate > 0 && this.#random() < rate) {
      return injectedError(this.#options.errorCode ?? defaultCode, undefined, undefined, 1);
    }
    return undefined;
  }

  /** The broken answer this call must get, if any (consumes one). */
  answerFor(api: string, region: string): AnswerFault | undefined {
    const list = this.#options.answers ?? [];
    const index = list.findIndex(
      (f) => (f.api === api || f.api === '*') && (f.region === undefined || f.region === region) && (f.count ?? 0) > 0,
    );
    const hit = list[index];
    if (!hit) return undefined;
    if ((hit.skip ?? 0) > 0) {
      hit.skip = (hit.skip ?? 0) - 1;
      return undefined;
    }
    hit.count = (hit.count ?? 1) - 1;
    if (hit.count <= 0) list.splice(index, 1);
    return hit;
  }

  /** Whether an accepted update must end Failed (consumes one entry). */
  updateFailure(api: string, functionName: string): FailedUpdate | undefined {
    const list = this.#options.failUpdates ?? [];
    const index = list.findIndex(
      (f) =>
        (f.api === api || f.api === '*') &&
        (f.function === undefined || f.function === functionName) &&
        (f.count ?? 0) > 0,
    );
    const hit = list[index];
    if (!hit) return undefined;
    hit.count = (hit.count ?? 1) - 1;
    if (hit.count <= 0) list.splice(index, 1);
    return hit;
  }

  /** The StatusReason an allocation must fail with, if one is injected for it (consumes one entry). */
  provisionedFailure(functionName: string, qualifier: string): string | undefined {
    const list = this.#options.failProvisioned ?? [];
    const index = list.findIndex(
      (f) =>
        (f.function === undefined || f.function === functionName) &&
        (f.qualifier === undefined || f.qualifier === qualifier) &&
        (f.count ?? 0) > 0,
    );
    const hit = list[index];
    if (!hit) return undefined;
    hit.count = (hit.count ?? 1) - 1;
    if (hit.count <= 0) list.splice(index, 1);
    return hit.reason ?? 'FUNCTION_ERROR_INIT_FAILURE: the function failed to initialize (injected by the emulator)';
  }
}

function injectedError(code: string, status?: number, message?: string, retryAfterSeconds = 1): AwsError {
  const isThrottle = code === 'TooManyRequestsException';
  return new AwsError(
    code,
    status ?? statusForCode(code),
    message ?? (isThrottle ? 'Rate exceeded' : `Injected ${code}`),
    {
      fields: isThrottle ? { Reason: 'CallerRateLimitExceeded' } : {},
      headers: isThrottle ? { 'Retry-After': String(retryAfterSeconds) } : {},
    },
  );
}

/** What the server sends instead of the answer: a body (possibly not JSON), or a stalled connection. */
export type BrokenAnswer =
  | { kind: 'send'; status: number; contentType: string; payload: string }
  | { kind: 'hang' }
  | { kind: 'trickle'; status: number; contentType: string };

// CloudWatch Logs spells its token `nextToken`.
const TOKEN_FIELDS = ['NextMarker', 'NextToken', 'PaginationToken', 'nextToken'];

/** Applies a fault to a JSON answer (`body` as the operation produced it). */
export function breakAnswer(fault: AnswerFault, status: number, body: unknown, contentType: string): BrokenAnswer {
  switch (fault.kind) {
    case 'hang':
      return { kind: 'hang' };
    case 'trickle':
      return { kind: 'trickle', status, contentType };
    case 'html':
      return {
        kind: 'send',
        status: 502,
        contentType: 'text/html',
        payload: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>',
      };
    case 'empty':
      return { kind: 'send', status, contentType, payload: '' };
    case 'truncate': {
      const text = JSON.stringify(body ?? {});
      return { kind: 'send', status, contentType, payload: text.slice(0, Math.max(1, Math.floor(text.length / 2))) };
    }
    case 'repeatToken': {
      const copy: unknown = structuredClone(body ?? {});
      if (isObject(copy)) {
        // Without a value, the first real token this fault sees is the one repeated: valid, so the service
        // serves the same page again and the loop is the client's to notice.
        if (fault.value === undefined) {
          const found = TOKEN_FIELDS.map((f) => copy[f]).find((v) => typeof v === 'string' && v !== '');
          if (found !== undefined) fault.value = found;
        }
        for (const field of TOKEN_FIELDS) if (fault.value !== undefined || field in copy) copy[field] = fault.value;
      }
      return { kind: 'send', status, contentType, payload: JSON.stringify(copy) };
    }
    case 'set':
    case 'delete': {
      const copy: unknown = structuredClone(body ?? {});
      editPath(
        copy,
        (fault.path ?? '').split('.'),
        fault.kind === 'delete' ? { delete: true } : { value: fault.value },
      );
      return { kind: 'send', status, contentType, payload: JSON.stringify(copy) };
    }
    default:
      return { kind: 'send', status, contentType, payload: JSON.stringify(body ?? {}) };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function editPath(node: unknown, path: readonly string[], edit: { delete: true } | { value: unknown }): void {
  const [head, ...rest] = path;
  if (head === undefined || !isObject(node)) return;
  if (head === '*') {
    if (Array.isArray(node)) for (const item of node) editPath(item, rest, edit);
    return;
  }
  if (rest.length === 0) {
    if ('delete' in edit) delete node[head];
    else node[head] = edit.value;
    return;
  }
  editPath(node[head], rest, edit);
}
