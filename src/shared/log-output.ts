/**
 * The controller's logs: pino with level labels (`"level":"info"`, not 30) and ISO 8601 times, as JSON (one object
 * per line, for log pipelines) or as text (one human-readable line per record, for a terminal). Every string is
 * passed through `redactSecrets`, and the keys that hold credentials or function environments are censored, so a
 * record cannot carry one even when a caller logs a raw object.
 */
import { type DestinationStream, type Logger as PinoLogger, pino, stdTimeFunctions } from 'pino';
import { redactSecrets } from './logger.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level?: LogLevel | undefined;
  format?: LogFormat | undefined;
  /** Where lines go; default stdout. */
  destination?: { write(line: string): unknown } | undefined;
  name?: string | undefined;
}

/** Keys whose values are never written, wherever they appear (one level of nesting, as pino's paths allow). */
const CENSORED_KEYS = [
  'environment',
  'Environment',
  'Variables',
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'accessKeyId',
  'AccessKeyId',
  'credentials',
  'authorization',
  'Authorization',
  'password',
  'token',
];

/** Strings of a record, at any depth (bounded), with credential shapes replaced. */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const out = options.destination ?? process.stdout;
  const destination: DestinationStream =
    options.format === 'text'
      ? { write: (line: string) => void out.write(formatTextLine(line)) }
      : { write: (line: string) => void out.write(line) };
  return pino(
    {
      name: options.name ?? 'lambda-policy-controller',
      level: options.level ?? 'info',
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => scrub(record) as Record<string, unknown>,
      },
      hooks: {
        // The message too: a caller may put an error's text there.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      redact: { paths: [...CENSORED_KEYS, ...CENSORED_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    destination,
  );
}

/** Keys the text format shows in its prefix (or leaves out: process identity is the same on every line). */
const PREFIX_KEYS = new Set(['time', 'level', 'msg', 'name', 'pid', 'hostname']);

/** A value in `key=value` form: bare when unambiguous, else JSON (quoted, escaped: one line whatever it holds). */
function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * One pino JSON line as one text line: `TIME LEVEL message key=value ...` (logfmt-style fields, in the record's
 * order). A line that is not a JSON object is passed through.
 */
export function formatTextLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return `${line.trimEnd()}\n`;
  const r = record as Record<string, unknown>;
  const level = String(r.level ?? '').toUpperCase();
  const msg = typeof r.msg === 'string' ? r.msg.replace(/\r?\n/g, '\\n') : '';
  const fields = Object.entries(r)
    .filter(([k, v]) => !PREFIX_KEYS.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  return `${[String(r.time ?? ''), level.padEnd(5), msg, ...fields].filter((s) => s !== '').join(' ')}\n`;
}
