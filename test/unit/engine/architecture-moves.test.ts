import { describe, expect, it } from 'vitest';
import {
  parseRuntimeTable,
  runtimeArchitectureProblem,
  shippedRuntimeTable,
} from '../../../src/engine/checks/runtimes.ts';
import type { ObservedLayer } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { requiredReads } from '../../../src/engine/requirements.ts';
import { fleet, fn, OPTIONS, policy, REGION, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');
const toArm = [policy('platform/arm', { settings: { architecture: 'arm64' } })];
const layer = (name: string, compatibleArchitectures?: string[], readError?: string): ObservedLayer => ({
  arn: `arn:aws:lambda:${REGION}:123456789012:layer:${name}:3`,
  codeSize: 1000,
  ...(compatibleArchitectures ? { compatibleArchitectures } : {}),
  ...(readError ? { readError } : {}),
});

function planOne(f: ReturnType<typeof fn>) {
  const p = plan(toArm, fleet(region([f])), NOW, OPTIONS);
  const [only] = p.functions;
  if (!only) throw new Error('no plan');
  return only;
}

describe('architecture moves refused in the plan', () => {
  it.each(['python3.7', 'go1.x', 'java8', 'nodejs10.x', 'provided'])('refuses %s, which has no arm64', (runtime) => {
    const planned = planOne(fn('old', { runtime }));

    expect(planned.actions).toEqual([]);
    expect(planned.refusals).toEqual([
      expect.objectContaining({ field: 'architecture', reason: 'RuntimeArchitecture', policy: 'platform/arm' }),
    ]);
    expect(planned.refusals[0]?.message).toContain(`runtime ${runtime} runs on x86_64 only, not arm64`);
    expect(planned.compliant).toBe(false);
  });

  it.each(['nodejs22.x', 'python3.13', 'java8.al2', 'provided.al2023', 'ruby3.4', 'some-new-runtime'])(
    'moves %s',
    (runtime) => {
      expect(planOne(fn('ok', { runtime })).actions).toEqual([{ api: 'UpdateFunctionCode', architecture: 'arm64' }]);
    },
  );

  it('refuses a layer whose CompatibleArchitectures lack arm64, naming it, and one listing none', () => {
    const planned = planOne(
      fn('f', { runtime: 'nodejs22.x', layers: [layer('ok', ['x86_64', 'arm64']), layer('sharp', ['x86_64'])] }),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.refusals).toEqual([expect.objectContaining({ reason: 'LayerArchitecture' })]);
    expect(planned.refusals[0]?.message).toContain(
      `layer arn:aws:lambda:${REGION}:123456789012:layer:sharp:3 lists CompatibleArchitectures x86_64, not arm64`,
    );

    const bare = planOne(fn('f', { runtime: 'nodejs22.x', layers: [layer('legacy', [])] }));
    expect(bare.refusals[0]?.message).toContain('lists no CompatibleArchitectures');
  });

  it('refuses when a layer could not be read (NotRead), and moves when every layer lists the target', () => {
    const unread = planOne(fn('f', { layers: [layer('foreign', undefined, 'AccessDeniedException')] }));
    expect(unread.refusals).toEqual([expect.objectContaining({ reason: 'NotRead' })]);
    expect(unread.refusals[0]?.message).toContain('(AccessDeniedException)');

    const fits = planOne(fn('f', { layers: [layer('both', ['x86_64', 'arm64']), layer('arm', ['arm64'])] }));
    expect(fits.actions).toEqual([{ api: 'UpdateFunctionCode', architecture: 'arm64' }]);
  });

  it('reads layers only where a move is due', () => {
    const fns = [
      fn('moves', { layers: [layer('a')] }),
      fn('already', { architecture: 'arm64', layers: [layer('a')] }),
      fn('nolayers'),
    ];
    const reads = requiredReads(toArm, REGION, fns, OPTIONS.defaultRegions);
    expect(reads.filter((r) => r.layers).map((r) => r.name)).toEqual(['moves']);
    const audit = [policy('platform/arm', { mode: 'Audit', settings: { architecture: 'arm64' } })];
    expect(requiredReads(audit, REGION, fns, OPTIONS.defaultRegions).some((r) => r.layers)).toBe(false);
  });
});

describe('runtime architectures in the table', () => {
  it('are read from a runtimes file, and an override can allow what the shipped table does not', () => {
    const table = parseRuntimeTable(
      { runtimes: [{ identifier: 'python3.7', deprecation: '2023-12-04', architectures: ['x86_64', 'arm64'] }] },
      'runtimes.yaml',
    );
    expect(runtimeArchitectureProblem('python3.7', 'arm64', table)).toBeUndefined();
    expect(runtimeArchitectureProblem('python3.7', 'arm64', shippedRuntimeTable())).toMatch(/x86_64 only/);
    expect(runtimeArchitectureProblem('python3.7', 'x86_64', shippedRuntimeTable())).toBeUndefined();
  });

  it('refuses a bad architectures list naming the file and field', () => {
    expect(() =>
      parseRuntimeTable(
        { runtimes: [{ identifier: 'python3.7', deprecation: '2023-12-04', architectures: ['arm'] }] },
        'r.yaml',
      ),
    ).toThrow('r.yaml: runtimes[0].architectures: must list x86_64 and/or arm64, each once');
  });
});
