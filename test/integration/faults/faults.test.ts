/**
 * The fault table: every case of cases.ts, each a test (no crash, no hang, its own expectation, 0 writes lost,
 * 0 duplicated). `npm run faults` also writes the table into docs/reliability.md (FAULT_TABLE names the file).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_CASES, type Outcome } from './cases.ts';
import { cell } from './harness.ts';

const rows: { index: number; fault: string; injection: string; expected: string; outcome: Outcome }[] = [];
const START = '<!-- fault-table:start -->';
const END = '<!-- fault-table:end -->';

describe('fault table', () => {
  it('has at least 40 cases', () => {
    expect(FAULT_CASES.length).toBeGreaterThanOrEqual(40);
  });

  FAULT_CASES.forEach((c, index) => {
    it(`${index + 1}. ${c.fault}`, { timeout: 180_000 }, async () => {
      const outcome = await c.run();
      rows.push({ index, fault: c.fault, injection: c.injection, expected: c.expected, outcome });
      expect(outcome, outcome.observed).toMatchObject({
        expected: true,
        crashed: false,
        hung: false,
        lost: 0,
        duplicated: 0,
      });
    });
  });

  afterAll(async () => {
    const file = process.env.FAULT_TABLE;
    if (!file || rows.length === 0) return;
    rows.sort((a, b) => a.index - b.index);
    const lines = [
      START,
      '| # | fault or bad input | how injected | expected | observed | lost / duplicated writes | verdict |',
      '|---|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const o = r.outcome;
        const ok = o.expected && !o.crashed && !o.hung && o.lost === 0 && o.duplicated === 0;
        const flags = [o.crashed ? 'CRASH' : '', o.hung ? 'HANG' : ''].filter(Boolean).join(' ');
        return `| ${r.index + 1} | ${cell(r.fault)} | ${cell(r.injection)} | ${cell(r.expected)} | ${cell(o.observed)}${flags ? ` ${flags}` : ''} | ${o.lost} / ${o.duplicated} | ${ok ? 'ok' : 'FAIL'} |`;
      }),
      '',
      `${rows.length} cases; ${rows.filter((r) => r.outcome.crashed).length} crashes, ${rows.filter((r) => r.outcome.hung).length} hangs, ${rows.reduce((n, r) => n + r.outcome.lost, 0)} writes lost, ${rows.reduce((n, r) => n + r.outcome.duplicated, 0)} duplicated.`,
      END,
    ];
    const doc = await readFile(file, 'utf8');
    const from = doc.indexOf(START);
    const to = doc.indexOf(END);
    if (from < 0 || to < 0) throw new Error(`${file} has no ${START} ... ${END} markers`);
    await writeFile(file, `${doc.slice(0, from)}${lines.join('\n')}${doc.slice(to + END.length)}`);
  });
});
