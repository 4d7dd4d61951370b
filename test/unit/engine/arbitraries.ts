/**
 * fast-check arbitraries for engine inputs, shaped by the LambdaPolicy schema types. Two flavours:
 * - `realistic`: small vocabularies (names, tags, valid crons) so that policies actually match and collide;
 * - `wild`: anything the schema admits (arbitrary strings for globs, crons, zones, tag keys such as __proto__).
 */
import fc from 'fast-check';
import type { Selector, Settings, TagExpression, Window } from '../../../src/api/schema.ts';
import type {
  FleetSnapshot,
  ObservedFunction,
  PolicyInput,
  QualifierState,
  RegionSnapshot,
  ScheduledActionState,
} from '../../../src/engine/model.ts';
import { SCHEDULED_ACTION_PREFIX } from '../../../src/engine/model.ts';

export const REGIONS = ['eu-central-1', 'us-east-1'] as const;
const NAMES = ['orders-api', 'orders-worker', 'payments-api', 'pay-canary', 'search', 'x'] as const;
const TAG_KEYS = ['team', 'tier', 'env'] as const;
const TAG_VALUES = ['a', 'b', 'api'] as const;
const QUALIFIERS = ['live', 'blue', '7'] as const;

const WINDOW_TEMPLATES: Window[] = [
  { name: 'business', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 20 },
  { name: 'night', start: '0 22 * * *', end: '0 6 * * *', value: 4 },
  { name: 'weekend', start: '0 18 * * 5', end: '0 6 * * 1', timezone: 'America/New_York', value: 8 },
  { name: 'dawn', start: '30 2 * * *', end: '0 4 * * *', timezone: 'Europe/Berlin', value: 3 },
  { name: 'lunch', start: '0 12 * * *', end: '0 14 * * *', timezone: 'Europe/Berlin', value: 30 },
];

// ---------- realistic ----------

const tagMap = fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.constantFrom(...TAG_VALUES), { maxKeys: 3 });
const glob = fc.constantFrom('orders-*', '*-api', 'pay*', '*', 'search', 'x', '?', '*-canary', 'o?ders-*');

const tagExpression: fc.Arbitrary<TagExpression> = fc.oneof(
  fc.record({
    key: fc.constantFrom(...TAG_KEYS),
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.uniqueArray(fc.constantFrom(...TAG_VALUES), { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    key: fc.constantFrom(...TAG_KEYS),
    operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
  }),
);

const anyRegions = fc.option(fc.subarray([...REGIONS], { minLength: 1 }), { nil: undefined });
const withRegions = (sel: Selector, regions: string[] | undefined): Selector => (regions ? { ...sel, regions } : sel);

/** Mostly single-criterion selectors (they match often); sometimes everything at once (they rarely do). */
const selector: fc.Arbitrary<Selector> = fc.oneof(
  fc
    .tuple(fc.array(glob, { minLength: 1, maxLength: 2 }), anyRegions)
    .map(([functionNames, r]) => withRegions({ functionNames }, r)),
  fc
    .tuple(fc.array(glob, { minLength: 1, maxLength: 2 }), fc.array(glob, { minLength: 1, maxLength: 1 }), anyRegions)
    .map(([functionNames, excludeFunctionNames, r]) => withRegions({ functionNames, excludeFunctionNames }, r)),
  fc
    .tuple(
      fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.constantFrom(...TAG_VALUES), { minKeys: 1, maxKeys: 1 }),
      anyRegions,
    )
    .map(([tags, r]) => withRegions({ tags }, r)),
  fc
    .tuple(fc.array(tagExpression, { minLength: 1, maxLength: 2 }), anyRegions)
    .map(([tagExpressions, r]) => withRegions({ tagExpressions }, r)),
  fc
    .record(
      {
        regions: fc.subarray([...REGIONS], { minLength: 1 }),
        functionNames: fc.array(glob, { minLength: 1, maxLength: 2 }),
        excludeFunctionNames: fc.array(glob, { minLength: 1, maxLength: 1 }),
        tags: fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.constantFrom(...TAG_VALUES), { minKeys: 1, maxKeys: 1 }),
        tagExpressions: fc.array(tagExpression, { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .filter((s) => s.functionNames !== undefined || s.tags !== undefined || s.tagExpressions !== undefined),
);

const settings: fc.Arbitrary<Settings> = fc.record(
  {
    memorySize: fc.constantFrom(128, 512, 1024),
    timeout: fc.constantFrom(3, 30, 60),
    architecture: fc.constantFrom('x86_64' as const, 'arm64' as const),
    reservedConcurrency: fc.oneof(fc.constant('Unreserved' as const), fc.integer({ min: 0, max: 80 })),
    provisionedConcurrency: fc.record(
      {
        qualifier: fc.constantFrom(...QUALIFIERS),
        value: fc.integer({ min: 0, max: 10 }),
        windows: fc.uniqueArray(fc.constantFrom(...WINDOW_TEMPLATES), { maxLength: 2, selector: (w) => w.name }),
      },
      { requiredKeys: ['qualifier', 'value'] },
    ),
  },
  { requiredKeys: [] },
);

function policyOf(
  id: { namespace: string; name: string },
  rest: { mode: 'Enforce' | 'Audit'; priority: number; suspend: boolean; selector: Selector; settings: Settings },
): PolicyInput {
  return { id: `${id.namespace}/${id.name}`, ...id, intervalSeconds: 300, ...rest };
}

export const policies: fc.Arbitrary<PolicyInput[]> = fc
  .uniqueArray(
    fc.record({
      namespace: fc.constantFrom('platform', 'team-a', 'Team'),
      name: fc.constantFrom('p1', 'p2', 'p3', 'B'),
    }),
    { minLength: 1, maxLength: 6, selector: (x) => `${x.namespace}/${x.name}` },
  )
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc
          .record({
            mode: fc.constantFrom('Enforce' as const, 'Enforce' as const, 'Audit' as const),
            priority: fc.integer({ min: -1, max: 1 }),
            suspend: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
            selector,
            settings,
          })
          .map((rest) => policyOf(id, rest)),
      ),
    ),
  );

/** Every qualifier read (NotRead has its own table test); most exist. */
const qualifierStates = fc
  .tuple(
    ...QUALIFIERS.map((q) =>
      fc.record({
        qualifier: fc.constant(q),
        exists: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
        provisionedRequested: fc.integer({ min: 0, max: 25 }),
      }),
    ),
  )
  .map((list): Record<string, QualifierState> => Object.fromEntries(list.map((q) => [q.qualifier, q])));

function functionsIn(region: string): fc.Arbitrary<ObservedFunction[]> {
  return fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 5 }).chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .record(
            {
              memorySize: fc.constantFrom(128, 512, 1024),
              timeout: fc.constantFrom(3, 30, 60),
              architecture: fc.constantFrom('x86_64' as const, 'arm64' as const),
              packageType: fc.constantFrom('Zip' as const, 'Zip' as const, 'Image' as const),
              tags: tagMap,
              reservedConcurrency: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 80 }), fc.constant(undefined)),
              qualifiers: qualifierStates,
              otherProvisioned: fc.dictionary(fc.constantFrom('green', '9'), fc.integer({ min: 1, max: 15 }), {
                maxKeys: 2,
              }),
              monthlyGbSeconds: fc.integer({ min: 0, max: 10_000_000 }),
            },
            { requiredKeys: ['memorySize', 'timeout', 'architecture', 'packageType', 'tags', 'reservedConcurrency'] },
          )
          .map((f) => ({ ...f, region, name, arn: `arn:aws:lambda:${region}:1:function:${name}` })),
      ),
    ),
  );
}

function ownedActions(functions: ObservedFunction[]): fc.Arbitrary<ScheduledActionState[]> {
  if (functions.length === 0) return fc.constant([]);
  return fc.array(
    fc.record({
      name: fc.constantFrom(
        `${SCHEDULED_ACTION_PREFIX}.platform.p1.business.start`,
        `${SCHEDULED_ACTION_PREFIX}.platform.p1.old.end`,
        'not-ours',
      ),
      resourceId: fc
        .tuple(fc.constantFrom(...functions.map((f) => f.name)), fc.constantFrom(...QUALIFIERS))
        .map(([n, q]) => `function:${n}:${q}`),
      schedule: fc.constantFrom('cron(0 8 ? * MON-FRI *)', 'cron(0 1 * * ? *)'),
      timezone: fc.constantFrom('UTC', 'Europe/Berlin'),
      minCapacity: fc.integer({ min: 0, max: 20 }),
      maxCapacity: fc.integer({ min: 0, max: 20 }),
    }),
    { maxLength: 3 },
  );
}

export function fleetArb(account: 'generous' | 'any' = 'any'): fc.Arbitrary<FleetSnapshot> {
  const regionArb = (region: string): fc.Arbitrary<RegionSnapshot> =>
    functionsIn(region).chain((functions) =>
      fc.record({
        region: fc.constant(region),
        account:
          account === 'generous'
            ? fc.constant({
                concurrentExecutions: 100_000,
                unreservedConcurrentExecutions: 100_000,
                unreservedFloor: 100,
              })
            : fc.option(
                fc.record({
                  concurrentExecutions: fc.constant(1000),
                  unreservedConcurrentExecutions: fc.integer({ min: 100, max: 400 }),
                  unreservedFloor: fc.constantFrom(10, 50, 100),
                }),
                { nil: undefined },
              ),
        functions: fc.constant(functions),
        scalableTargets: fc.constant([]),
        scheduledActions: ownedActions(functions),
      }),
    );
  return fc
    .subarray([...REGIONS], { minLength: 1 })
    .chain((regions) => fc.tuple(...regions.map(regionArb)))
    .map((regions) => ({ readAt: new Date(0), regions }));
}

/** Instants around DST transitions and ordinary days, minute-aligned and not. */
export const instant: fc.Arbitrary<Date> = fc.oneof(
  fc
    .constantFrom(
      '2026-03-29T01:00:00Z',
      '2026-03-08T07:00:00Z',
      '2026-10-25T01:30:00Z',
      '2026-11-01T06:00:00Z',
      '2026-12-01T07:00:30Z',
    )
    .map((s) => new Date(s)),
  fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }),
);

// ---------- wild (anything the schema admits) ----------

const wildString = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'binary' });
const cronish = fc.oneof(
  fc.constantFrom(
    '0 8 * * 1-5',
    '*/7 * * * *',
    '0 0 29 2 *',
    '0 8 1 * 1',
    '0 0 L * *',
    '5 4 * * 5#2',
    '0 0 * * 7',
    '@daily',
  ),
  fc
    .array(fc.constantFrom('*', '0', '59', '1-5', '*/2', '?', 'L', 'MON', 'jan', '7', '#', ',', '-', '/'), {
      minLength: 1,
      maxLength: 7,
    })
    .map((p) => p.join(' ')),
  wildString(100),
);

const wildWindow: fc.Arbitrary<Window> = fc.record(
  {
    name: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
    start: cronish,
    end: cronish,
    timezone: fc.oneof(
      fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'Etc/GMT+14', 'Nowhere/City'),
      wildString(64),
    ),
    value: fc.integer({ min: 0, max: 100_000 }),
  },
  { requiredKeys: ['name', 'start', 'end', 'value'] },
);

const wildSelector: fc.Arbitrary<Selector> = fc.record(
  {
    regions: fc.array(fc.constantFrom(...REGIONS, 'eu-central-1', 'ap-south-1'), { maxLength: 3 }),
    functionNames: fc.array(fc.oneof(fc.constantFrom('*', 'orders-*', '*a*', '?*'), wildString(170)), { maxLength: 4 }),
    excludeFunctionNames: fc.array(wildString(170), { maxLength: 2 }),
    tags: fc.oneof(
      fc.constant({}),
      fc.dictionary(
        fc.oneof(fc.constantFrom('__proto__', 'constructor', 'team'), fc.string()),
        fc.string({ maxLength: 256 }),
        {
          maxKeys: 4,
        },
      ),
    ),
    tagExpressions: fc.array(
      fc.record(
        {
          key: fc.oneof(fc.constantFrom('__proto__', 'team'), wildString(128)),
          operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const),
          values: fc.array(fc.string({ maxLength: 256 }), { maxLength: 4 }),
        },
        { requiredKeys: ['key', 'operator'] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

const wildSettings: fc.Arbitrary<Settings> = fc.record(
  {
    memorySize: fc.integer({ min: 128, max: 10240 }),
    timeout: fc.integer({ min: 1, max: 900 }),
    architecture: fc.constantFrom('x86_64' as const, 'arm64' as const),
    reservedConcurrency: fc.oneof(fc.constant('Unreserved' as const), fc.integer({ min: 0, max: 100_000 })),
    provisionedConcurrency: fc.record(
      {
        qualifier: fc.oneof(fc.constantFrom('$LATEST', 'live', '1'), wildString(128)),
        value: fc.integer({ min: 0, max: 100_000 }),
        windows: fc.array(wildWindow, { maxLength: 4 }),
      },
      { requiredKeys: ['qualifier', 'value'] },
    ),
  },
  { requiredKeys: [] },
);

export const wildPolicies: fc.Arbitrary<PolicyInput[]> = fc.array(
  fc
    .record({
      namespace: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/),
      name: fc.stringMatching(/^[a-z0-9]([-.a-z0-9]{0,250}[a-z0-9])?$/),
      mode: fc.constantFrom('Enforce' as const, 'Audit' as const),
      priority: fc.integer({ min: -1_000_000, max: 1_000_000 }),
      suspend: fc.boolean(),
      selector: wildSelector,
      settings: wildSettings,
    })
    .map((p) => ({ ...p, id: `${p.namespace}/${p.name}`, intervalSeconds: 300 })),
  { maxLength: 5 },
);

export const wildFleet: fc.Arbitrary<FleetSnapshot> = fc
  .array(
    fc.record({
      region: fc.constantFrom(...REGIONS),
      name: fc.oneof({ arbitrary: fc.constantFrom(...NAMES), weight: 3 }, { arbitrary: wildString(64), weight: 1 }),
      memorySize: fc.integer({ min: 128, max: 10240 }),
      timeout: fc.integer({ min: 1, max: 900 }),
      architecture: fc.constantFrom('x86_64' as const, 'arm64' as const),
      packageType: fc.constantFrom('Zip' as const, 'Image' as const),
      tags: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'team'), fc.string()), fc.string(), { maxKeys: 3 }),
      reservedConcurrency: fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer({ min: 0, max: 100_000 })),
      qualifiers: fc.option(
        fc.dictionary(
          fc.constantFrom('live', '$LATEST', '1'),
          fc.record({
            qualifier: fc.string(),
            exists: fc.boolean(),
            provisionedRequested: fc.integer({ min: 0, max: 100_000 }),
          }),
        ),
        { nil: undefined },
      ),
      otherProvisioned: fc.option(
        fc.dictionary(fc.oneof(fc.constantFrom('blue', '1'), fc.string()), fc.integer({ min: 0, max: 100_000 }), {
          maxKeys: 3,
        }),
        { nil: undefined },
      ),
    }),
    { maxLength: 6 },
  )
  .map((fns) => ({
    readAt: new Date(0),
    regions: REGIONS.map((region) => ({
      region,
      account: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 500, unreservedFloor: 100 },
      functions: fns.filter((f) => f.region === region).map((f) => ({ ...f, arn: 'arn' })),
      scalableTargets: [],
      scheduledActions: [],
    })),
  }));
