import { describe, expect, it } from 'vitest';
import { RUNTIME_ROWS } from '../../../src/engine/checks/runtime-data.ts';
import { parseRuntimeTable, RuntimeTableError, shippedRuntimeTable } from '../../../src/engine/checks/runtimes.ts';

const FILE = '/etc/lpc/runtimes.yaml';

describe('runtime table', () => {
  it('the shipped table passes the same validation as an override file', () => {
    const table = shippedRuntimeTable();
    expect(table.runtimes.size).toBe(RUNTIME_ROWS.length);
    expect(table.source).toBe('https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html');
    for (const entry of table.runtimes.values()) {
      if (entry.successor) expect(table.runtimes.has(entry.successor), entry.identifier).toBe(true);
    }
  });

  it.each<[string, unknown, string]>([
    [
      'unknown runtime name',
      { runtimes: [{ identifier: 'nodjs20.x', deprecation: '2026-04-30' }] },
      `${FILE}: runtimes[0].identifier: unknown runtime name "nodjs20.x"`,
    ],
    [
      'unknown successor',
      { runtimes: [{ identifier: 'nodejs20.x', deprecation: '2026-04-30', successor: 'nodejs26.x' }] },
      `${FILE}: runtimes[0].successor: unknown runtime name "nodejs26.x"`,
    ],
    [
      'date not a date',
      { runtimes: [{ identifier: 'nodejs20.x', deprecation: '30 April 2026' }] },
      `${FILE}: runtimes[0].deprecation: must be a date written YYYY-MM-DD`,
    ],
    [
      'block date before deprecation',
      { runtimes: [{ identifier: 'nodejs20.x', deprecation: '2026-04-30', blockUpdate: '2026-01-01' }] },
      `${FILE}: runtimes[0].blockUpdate: 2026-01-01 is before the deprecation date`,
    ],
    [
      'duplicate',
      {
        runtimes: [
          { identifier: 'java21', deprecation: '2029-06-30' },
          { identifier: 'java21', deprecation: '2029-06-30' },
        ],
      },
      `${FILE}: runtimes[1].identifier: duplicate runtime java21`,
    ],
    [
      'unknown field',
      { runtimes: [{ identifier: 'java21', deprecation: '2029-06-30', eol: 'x' }] },
      `${FILE}: runtimes[0].eol: unknown field`,
    ],
    ['empty', { runtimes: [] }, `${FILE}: runtimes: must be a non-empty list`],
  ])('%s', (_name, doc, message) => {
    expect(() => parseRuntimeTable(doc, FILE)).toThrow(RuntimeTableError);
    expect(() => parseRuntimeTable(doc, FILE)).toThrow(message);
  });

  it('an override replaces the table and names its source', () => {
    const table = parseRuntimeTable(
      { source: 'internal wiki', runtimes: [{ identifier: 'nodejs22.x', deprecation: '2027-01-01' }] },
      FILE,
    );
    expect([...table.runtimes.keys()]).toEqual(['nodejs22.x']);
    expect(table.source).toBe('internal wiki');
  });
});
