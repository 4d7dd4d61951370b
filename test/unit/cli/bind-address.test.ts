import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/main.ts';
import { defaultBindAddress } from '../../../src/cli/run-command.ts';

describe('default bind addresses of run', () => {
  it('loopback on a workstation, every interface in a pod', () => {
    expect(defaultBindAddress(8080, {})).toBe('127.0.0.1:8080');
    expect(defaultBindAddress(8081, { KUBERNETES_SERVICE_HOST: '' })).toBe('127.0.0.1:8081');
    expect(defaultBindAddress(8080, { KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe(':8080');
  });

  it('the CLI no longer hard-codes :8080/:8081, so the default above applies', () => {
    const run = buildProgram({ code: 0 }).commands.find((c) => c.name() === 'run');
    const defaults = run?.options.filter((o) => o.long === '--metrics-addr' || o.long === '--health-addr');
    expect(defaults?.map((o) => o.defaultValue)).toEqual([undefined, undefined]);
  });
});
