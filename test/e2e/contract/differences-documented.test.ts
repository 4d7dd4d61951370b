/** Every difference a contract target declares is explained in docs/emulator-vs-moto.md (and nothing stale is). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCALSTACK_DIFFERENCES } from '../../contract/localstack.ts';
import { MOTO_DIFFERENCES } from '../../contract/targets.ts';

const doc = readFileSync(new URL('../../../docs/emulator-vs-moto.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1]));

describe('docs/emulator-vs-moto.md', () => {
  it.each([...MOTO_DIFFERENCES])('documents %s', (difference) => {
    expect(documented.has(difference)).toBe(true);
  });

  it.each([...LOCALSTACK_DIFFERENCES])('documents LocalStack’s %s', (difference) => {
    expect(documented.has(difference)).toBe(true);
  });

  it('documents no difference the suite does not declare', () => {
    const declared = new Set<string>([...MOTO_DIFFERENCES, ...LOCALSTACK_DIFFERENCES]);
    expect([...documented].filter((d) => d === undefined || !declared.has(d))).toEqual([]);
  });
});
