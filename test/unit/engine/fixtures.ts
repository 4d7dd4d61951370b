/** Builders for engine tests: small, explicit defaults so each test states only what it is about. */
import type { Checks, Selector, Settings } from '../../../src/api/schema.ts';
import type {
  FleetSnapshot,
  ObservedFunction,
  PolicyInput,
  RegionAccount,
  RegionSnapshot,
} from '../../../src/engine/model.ts';

export const REGION = 'eu-central-1';

export function policy(
  id: string,
  over: {
    selector?: Selector;
    settings?: Settings;
    mode?: 'Enforce' | 'Audit';
    priority?: number;
    suspend?: boolean;
    checks?: Checks;
  } = {},
): PolicyInput {
  const [namespace, name] = id.includes('/') ? (id.split('/') as [string, string]) : ['default', id];
  return {
    id: `${namespace}/${name}`,
    namespace,
    name,
    mode: over.mode ?? 'Enforce',
    priority: over.priority ?? 0,
    suspend: over.suspend ?? false,
    intervalSeconds: 300,
    selector: over.selector ?? { functionNames: ['*'] },
    settings: over.settings ?? {},
    ...(over.checks ? { checks: over.checks } : {}),
  };
}

export function fn(name: string, over: Partial<ObservedFunction> = {}): ObservedFunction {
  return {
    region: REGION,
    name,
    arn: `arn:aws:lambda:${over.region ?? REGION}:123456789012:function:${name}`,
    memorySize: 512,
    timeout: 30,
    architecture: 'x86_64',
    packageType: 'Zip',
    tags: {},
    reservedConcurrency: null,
    ...over,
  };
}

export const ACCOUNT: RegionAccount = {
  concurrentExecutions: 1000,
  unreservedConcurrentExecutions: 1000,
  unreservedFloor: 100,
};

export function region(functions: ObservedFunction[], over: Partial<RegionSnapshot> = {}): RegionSnapshot {
  return {
    region: functions[0]?.region ?? REGION,
    account: ACCOUNT,
    functions,
    scalableTargets: [],
    scheduledActions: [],
    ...over,
  };
}

export function fleet(...regions: RegionSnapshot[]): FleetSnapshot {
  return { readAt: new Date('2026-12-01T09:00:00Z'), regions };
}

export const OPTIONS = { defaultRegions: [REGION] };
