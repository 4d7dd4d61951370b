/** The logging surface the controller runtime needs; a pino logger fits it as is. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A short, log-safe description of an error (message and HTTP code, never a body with secrets). */
export function describeError(error: unknown): { error: string; code?: number | string } {
  if (error instanceof Error) {
    const code =
      (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
    return typeof code === 'number' || typeof code === 'string'
      ? { error: `${error.name}: ${error.message}`, code }
      : { error: `${error.name}: ${error.message}` };
  }
  return { error: String(error) };
}
