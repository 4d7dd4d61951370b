/**
 * The controller's log lines: level labels and ISO times in JSON, one readable line per record in text, the level
 * threshold, and no credential in either format.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, formatTextLine, type LogFormat } from '../../../src/shared/log-output.ts';
import { redactSecrets } from '../../../src/shared/logger.ts';

function capture(format: LogFormat, level: 'trace' | 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ format, level, destination: { write: (s: string) => lines.push(s) } });
  return { logger, lines };
}

// Invented, credential-shaped; assembled so this file holds no scanner-visible credential.
const KEY_ID = ['AKIA', 'Q3ZKX7NVD2PLM8WR'].join('');
const SECRET = ['kF8s2LpQ9xZr7VbN3mT6', 'yW1cH4jD5gA0eU8iO2qR'].join('');

describe('json format', () => {
  it('writes the level as its label and the time as ISO 8601', () => {
    const { logger, lines } = capture('json');
    logger.info({ policy: 'platform/api' }, 'remediated');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] ?? '');
    expect(record).toMatchObject({ level: 'info', msg: 'remediated', policy: 'platform/api' });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('logs at the level and above only', () => {
    const { logger, lines } = capture('json', 'warn');
    logger.debug({}, 'd');
    logger.info({}, 'i');
    logger.warn({}, 'w');
    logger.error({}, 'e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
    const verbose = capture('json', 'trace');
    verbose.logger.trace({}, 't');
    expect(JSON.parse(verbose.lines[0] ?? '').level).toBe('trace');
  });

  it('censors environment and credential keys and redacts credential shapes in any string', () => {
    const { logger, lines } = capture('json');
    logger.info(
      {
        fn: { Environment: { Variables: { DB_PASSWORD: 'hunter2-horse' } } },
        environment: { TOKEN: 'plain-value-1' },
        error: `AccessDenied for ${KEY_ID}: https://bucket/code.zip?X-Amz-Signature=abc123&X-Amz-Security-Token=tok456`,
        note: `secret ${SECRET} here`,
      },
      `message with ${KEY_ID}`,
    );
    const line = lines.join('');
    for (const secret of ['hunter2-horse', 'plain-value-1', KEY_ID, SECRET, 'abc123', 'tok456']) {
      expect(line).not.toContain(secret);
    }
    expect(JSON.parse(line).error).toContain('X-Amz-Signature=[redacted]');
  });
});

describe('text format', () => {
  it('is one line per record: time, level, message, then key=value fields', () => {
    const { logger, lines } = capture('text');
    logger.info(
      { policy: 'platform/api', region: 'eu-central-1', change: 'memorySize 512 -> 1024', count: 2, ok: true },
      'remediated',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}remediated policy=platform\/api region=eu-central-1 change="memorySize 512 -> 1024" count=2 ok=true\n$/,
    );
    expect(lines[0]).not.toMatch(/pid=|hostname=|name=/);
  });

  it('keeps a record on one line whatever its strings hold, and shows objects as JSON', () => {
    const line = formatTextLine(
      JSON.stringify({ level: 'warn', time: 't', msg: 'two\nlines', detail: 'a\nb', obj: { a: [1, 2] }, empty: '' }),
    );
    expect(line).toBe('t WARN  two\\nlines detail="a\\nb" obj={"a":[1,2]} empty=""\n');
    expect(line.split('\n')).toHaveLength(2);
  });

  it('passes a line that is not a JSON object through unchanged', () => {
    expect(formatTextLine('plain')).toBe('plain\n');
    expect(formatTextLine('[1,2]\n')).toBe('[1,2]\n');
  });

  it('redacts as the JSON format does', () => {
    const { logger, lines } = capture('text');
    logger.error({ error: `denied ${KEY_ID}`, environment: { A: 'plain-value-2' } }, `failed ${SECRET}`);
    expect(lines.join('')).not.toMatch(new RegExp(`${KEY_ID}|${SECRET}|plain-value-2`));
  });
});

describe('redactSecrets', () => {
  it.each([
    ['an access key id', `key ${KEY_ID} used`, 'key [redacted] used'],
    ['a temporary key id', 'ASIAQ3ZKX7NVD2PLM8WR', '[redacted]'],
    ['a secret access key', `secret=${SECRET}`, 'secret=[redacted]'],
    ['a session token', `token ${['IQoJb3JpZ2luX2VjE', 'Pr8aSzq9Vn2LxM4t'].join('')}`, 'token [redacted]'],
    ['a long base64 blob', `blob ${'Ab1'.repeat(80)}==`, 'blob [redacted]'],
    ['URL credentials', 'postgres://svc:Zq8vLx2m@pg:5432/db', 'postgres://svc:[redacted]@pg:5432/db'],
    ['a bearer token', 'Authorization: Bearer abc.def', 'Authorization: [redacted]'],
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----', '[redacted]'],
  ])('%s', (_name, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('leaves ordinary text, ARNs, hex digests and code hashes alone', () => {
    const text =
      'arn:aws:lambda:eu-central-1:123456789012:function:orders-api memorySize 512 -> 1024 ' +
      'da39a3ee5e6b4b0d3255bfef95601890afd80709 CodeSha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    expect(redactSecrets(text)).toBe(text);
  });
});
