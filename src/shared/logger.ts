/** The logging surface the controller runtime needs; a pino logger fits it as is. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

const REDACTED = '[redacted]';

/**
 * Credential shapes that may ride along in an error message or an AWS answer (a presigned code URL, a signed
 * header, a key pair echoed back): each is replaced, so logs and Events never carry one. Environment variable
 * values never reach a message in the first place (the engine names variables, not values); this is the net under
 * everything else.
 */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Access key ids (long-term AKIA, temporary ASIA).
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // STS session tokens (their base64 opens with the same bytes), and any long base64 run (a token, a key blob).
  [/\b(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9/+=]*/g, REDACTED],
  [/(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]{0,199}[A-Z])(?=[A-Za-z0-9/+]{0,199}[0-9])[A-Za-z0-9/+]{200,}={0,2}/g, REDACTED],
  // Presigned URL parts: the signature, the session token and the credential scope.
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"']+/gi, `$1${REDACTED}`],
  // Authorization headers (SigV4 and bearer tokens).
  [/(\bAuthorization["']?\s*[:=]\s*["']?)[^"'\n]+/gi, `$1${REDACTED}`],
  [/\bBearer\s+[A-Za-z0-9._~+/-]+=*/g, `Bearer ${REDACTED}`],
  // user:password@ in URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  // PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // A 40-character secret access key: base64 with upper, lower case and digits (a hex digest has no upper case).
  [
    /(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    REDACTED,
  ],
];

/** `text` with every credential shape of SECRET_PATTERNS replaced by "[redacted]". */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A short, log-safe description of an error (message and HTTP code, never a body with secrets). */
export function describeError(error: unknown): { error: string; code?: number | string } {
  if (error instanceof Error) {
    const code =
      (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
    const text = redactSecrets(`${error.name}: ${error.message}`);
    return typeof code === 'number' || typeof code === 'string' ? { error: text, code } : { error: text };
  }
  return { error: redactSecrets(String(error)) };
}
