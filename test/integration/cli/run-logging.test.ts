/** `run --log-level/--log-format`: the flags reach the logger, bad values are refused before anything starts. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './harness.ts';

describe('run --log-format / --log-level', () => {
  beforeEach(() => {
    // No region anywhere: `run` logs one error and exits 1 before it connects to anything.
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    vi.stubEnv('LOG_LEVEL', undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('json (the default): one object with a level label and an ISO time', async () => {
    const r = await runCli(['run']);
    expect(r.code).toBe(1);
    const record = JSON.parse(r.stdout.trim());
    expect(record).toMatchObject({ level: 'error', msg: 'no default region: pass --regions or set AWS_REGION' });
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('text: one readable line', async () => {
    const r = await runCli(['run', '--log-format', 'text']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR no default region: pass --regions or set AWS_REGION\n$/,
    );
  });

  it('takes --log-level, and LOG_LEVEL when the flag is absent (the threshold itself: test/unit/shared)', async () => {
    expect((await runCli(['run', '--log-level', 'error'])).stdout).toContain('no default region');
    vi.stubEnv('LOG_LEVEL', 'error');
    expect((await runCli(['run'])).stdout).toContain('no default region');
    expect((await runCli(['run', '--log-level', 'error', '--log-format', 'text'])).stdout).toContain(' ERROR ');
    vi.stubEnv('LOG_LEVEL', 'loud');
    expect((await runCli(['run'])).stderr).toContain("value 'loud' from env 'LOG_LEVEL' is invalid");
  });

  it.each([
    ['--log-level', 'verbose', 'trace, debug, info, warn, error'],
    ['--log-format', 'pretty', 'json, text'],
  ])('%s %s is refused, naming the choices', async (flag, value, choices) => {
    const r = await runCli(['run', flag, value]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`argument '${value}' is invalid. Allowed choices are ${choices}.`);
    expect(r.stdout).toBe('');
  });
});
