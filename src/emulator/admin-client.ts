/**
 * A client of the emulator's admin endpoints (`/_emulator/...`: seed, state, faults, quotas, clock, calls, writes),
 * over HTTP like any other client, so tests and benchmarks drive a running emulator the same way.
 */
export class EmulatorAdminError extends Error {
  override readonly name = 'EmulatorAdminError';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** One admin request; the JSON answer (undefined for an empty one). Throws EmulatorAdminError when not 2xx. */
export async function emulatorAdmin<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${url}/_emulator/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  if (!res.ok) throw new EmulatorAdminError(`admin ${method} ${path}: HTTP ${res.status} ${text}`, res.status);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
