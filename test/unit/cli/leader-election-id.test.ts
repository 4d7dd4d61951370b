/**
 * `run --leader-election-id`: the Lease name, checked when the command line is parsed (before any connection), so a
 * bad value fails fast with the option named instead of a 422 from the API server at the first election round.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT_ERROR } from '../../../src/cli/exit-codes.ts';
import { main } from '../../../src/cli/main.ts';
import { DEFAULT_LEASE_NAME, leaseNameProblem } from '../../../src/controller/lease-name.ts';

describe('leaseNameProblem', () => {
  it.each([
    [DEFAULT_LEASE_NAME, undefined],
    ['team-a-lambda-policy-controller-leader', undefined],
    ['leader.v2', undefined],
    ['Leader', 'not a valid Lease name'],
    ['under_score', 'not a valid Lease name'],
    ['-leading-dash', 'not a valid Lease name'],
    ['', 'not a valid Lease name'],
    ['a'.repeat(254), 'not a valid Lease name'],
  ])('%j -> %s', (name, expected) => {
    const problem = leaseNameProblem(name);

    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });
});

describe('run --leader-election-id', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('refuses an invalid name with the option named, before connecting anywhere', async () => {
    // Arrange
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });

    // Act
    const code = await main(['run', '--regions', 'eu-central-1', '--leader-election-id', 'Not_A_Lease']);

    // Assert
    expect(code).toBe(EXIT_ERROR);
    expect(stderr.join('')).toContain("option '--leader-election-id <name>' argument 'Not_A_Lease' is invalid");
    expect(stderr.join('')).toContain('not a valid Lease name');
  });
});
