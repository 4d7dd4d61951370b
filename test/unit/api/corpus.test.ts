import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatIssue } from '../../../src/api/errors.ts';
import { parsePolicies } from '../../../src/api/parse.ts';
import { validatePolicy } from '../../../src/api/validate.ts';
import { corpusCases, corpusManifests, INVALID_DIR, VALID_DIR } from '../../fixtures/corpus.ts';

const cases = corpusCases();
const manifests = corpusManifests();

describe('invalid-policy corpus', () => {
  it('has at least 30 manifests, each listed once in index.yaml', () => {
    const listed = cases.map((entry) => entry.file);

    expect(manifests.length).toBeGreaterThanOrEqual(30);
    expect([...listed].sort()).toEqual([...manifests].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it.each(cases)('$file: $path: $message', (entry) => {
    const text = readFileSync(join(INVALID_DIR, entry.file), 'utf8');

    const result = validatePolicy(parse(text));

    expect(result.ok).toBe(false);
    // Exactly one mistake per manifest, so the API server test can compare one path.
    expect(result.issues.map(formatIssue)).toHaveLength(1);
    const [issue] = result.issues;
    expect(issue?.path).toBe(entry.path);
    expect(issue?.message).toContain(entry.message);
    expect(issue?.source).toBe(entry.source);
  });

  it('marks exactly the TypeScript-only rules as invisible to the API server', () => {
    const cliOnly = cases.filter((entry) => entry.source === 'cli');
    const serverBlind = cases.filter(
      (entry) => !entry.apiServer && entry.path !== 'apiVersion' && entry.path !== 'kind',
    );

    expect(cliOnly.map((entry) => entry.file)).toEqual(serverBlind.map((entry) => entry.file));
  });

  it('gives every manifest a distinct name, so all can be applied to one namespace', () => {
    const names = manifests.map(
      (file) =>
        (parse(readFileSync(join(INVALID_DIR, file), 'utf8')) as { metadata?: { name?: string } }).metadata?.name,
    );
    const named = names.filter((name) => name !== undefined);

    expect(new Set(named).size).toBe(named.length);
  });
});

describe('valid-policy fixtures', () => {
  const files = readdirSync(VALID_DIR).filter((file) => file.endsWith('.yaml'));

  it.each(files)('%s parses without errors', (file) => {
    const result = parsePolicies(readFileSync(join(VALID_DIR, file), 'utf8'), file);

    expect(result.errors.map((error) => error.message)).toEqual([]);
    expect(result.policies.length).toBeGreaterThan(0);
  });
});
