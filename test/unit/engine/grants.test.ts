import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../../../src/api/label-selector.ts';
import {
  type AccountGrant,
  accountGrant,
  decideGrant,
  HOME_ACCOUNT,
  homeGrant,
  inScope,
  outOfScopeMessage,
  type PolicyGrant,
  policiesFor,
  scopeFunctions,
  type TenancyInput,
} from '../../../src/engine/grants.ts';
import type { FleetSnapshot, ObservedFunction, PolicyInput } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { fn, policy } from './fixtures.ts';

const EU = 'eu-central-1';
const US = 'us-east-1';

const payments: AccountGrant = {
  name: 'payments-prod',
  accountId: '210987654321',
  labels: { env: 'prod', team: 'payments' },
  regions: [EU, US],
  policyNamespaces: { matchLabels: { team: 'payments' } },
  scope: { functionNames: ['payments-*'], tags: { team: 'payments' } },
};
const search: AccountGrant = {
  name: 'search-prod',
  accountId: '333333333333',
  labels: { env: 'prod', team: 'search' },
  regions: [EU],
  policyNamespaces: { matchExpressions: [{ key: 'team', operator: 'In', values: ['search', 'platform'] }] },
};
const sandbox: AccountGrant = {
  name: 'sandbox',
  accountId: '444444444444',
  labels: { env: 'dev' },
  regions: [US],
  policyNamespaces: undefined,
};

const input: TenancyInput = {
  accounts: [payments, search, sandbox],
  home: homeGrant('123456789012', [EU], { matchLabels: { home: 'yes' } }),
  namespaceLabels: new Map([
    ['payments', { team: 'payments' }],
    ['search', { team: 'search' }],
    ['platform', { team: 'platform', home: 'yes' }],
  ]),
  defaultRegions: [EU],
};

describe('decideGrant', () => {
  const cases: {
    name: string;
    namespace: string;
    selector: Parameters<typeof decideGrant>[0]['selector'];
    reach: PolicyGrant['reach'];
    refused: PolicyGrant['refused'];
  }[] = [
    {
      name: 'no accounts named: the home account, if the namespace is granted it',
      namespace: 'platform',
      selector: {},
      reach: [{ account: 'home', accountId: '123456789012', regions: [EU] }],
      refused: [],
    },
    {
      name: 'home account refused to a namespace outside homeAccount.policyNamespaces',
      namespace: 'payments',
      selector: {},
      reach: [],
      refused: [{ account: 'home', accountId: '123456789012', reason: 'NamespaceNotGranted' }],
    },
    {
      name: 'named account granted: its regions by default',
      namespace: 'payments',
      selector: { accounts: ['payments-prod'] },
      reach: [{ account: 'payments-prod', accountId: '210987654321', regions: [EU, US] }],
      refused: [],
    },
    {
      name: 'named account not granted to the namespace',
      namespace: 'search',
      selector: { accounts: ['payments-prod'] },
      reach: [],
      refused: [{ account: 'payments-prod', accountId: '210987654321', reason: 'NamespaceNotGranted' }],
    },
    {
      name: 'a region outside the grant is refused, the others kept',
      namespace: 'search',
      selector: { accounts: ['search-prod'], regions: [EU, US] },
      reach: [{ account: 'search-prod', accountId: '333333333333', regions: [EU] }],
      refused: [{ account: 'search-prod', accountId: '333333333333', region: US, reason: 'RegionNotGranted' }],
    },
    {
      name: 'unknown account name',
      namespace: 'search',
      selector: { accounts: ['nope'] },
      reach: [],
      refused: [{ account: 'nope', reason: 'UnknownAccount' }],
    },
    {
      name: 'accountSelector: every matching account, each checked (absent policyNamespaces grants nobody)',
      namespace: 'search',
      selector: { accountSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } },
      reach: [{ account: 'search-prod', accountId: '333333333333', regions: [EU] }],
      refused: [
        { account: 'payments-prod', accountId: '210987654321', reason: 'NamespaceNotGranted' },
        { account: 'sandbox', accountId: '444444444444', reason: 'NamespaceNotGranted' },
      ],
    },
    {
      name: 'In over namespace labels grants a second team',
      namespace: 'platform',
      selector: { accounts: ['search-prod'] },
      reach: [{ account: 'search-prod', accountId: '333333333333', regions: [EU] }],
      refused: [],
    },
    {
      name: 'a namespace the controller has not seen has no labels',
      namespace: 'ghost',
      selector: { accounts: ['search-prod'] },
      reach: [],
      refused: [{ account: 'search-prod', accountId: '333333333333', reason: 'NamespaceNotGranted' }],
    },
  ];
  it.each(cases)('$name', ({ namespace, selector, reach, refused }) => {
    expect(decideGrant({ namespace, selector }, input)).toEqual({ reach, refused });
  });

  it('relabelling a namespace grants and revokes', () => {
    const relabelled = { ...input, namespaceLabels: new Map([['search', { team: 'payments' }]]) };
    expect(
      decideGrant({ namespace: 'search', selector: { accounts: ['payments-prod'] } }, relabelled).reach,
    ).toHaveLength(1);
    expect(decideGrant({ namespace: 'search', selector: { accounts: ['search-prod'] } }, relabelled).reach).toEqual([]);
  });

  it('the OutOfScope message names what was refused, bounded', () => {
    const { refused } = decideGrant(
      { namespace: 'search', selector: { accounts: ['search-prod', 'nope'], regions: [EU, US] } },
      input,
    );
    expect(outOfScopeMessage(refused)).toBe(
      'out of scope, nothing read or written there: account nope: no such AwsAccount; account search-prod (333333333333) region us-east-1: region not granted',
    );
    const many = Array.from({ length: 10 }, (_, i) => ({ account: `a${i}`, reason: 'UnknownAccount' as const }));
    expect(outOfScopeMessage(many, 2)).toMatch(/account a1: no such AwsAccount; and 8 more$/);
  });
});

describe('homeGrant', () => {
  const home = (policyNamespaces: LabelSelector | undefined) => ({
    ...input,
    home: homeGrant('123456789012', [EU], policyNamespaces),
  });
  const plain = { namespace: 'payments', selector: {} };

  it('an explicit undefined is "no namespace", never turned into every namespace', () => {
    const grant = homeGrant('123456789012', [EU], undefined);
    expect(grant.policyNamespaces).toBeUndefined();
    expect(decideGrant(plain, home(undefined))).toEqual({
      reach: [],
      refused: [{ account: HOME_ACCOUNT, accountId: '123456789012', reason: 'NamespaceNotGranted' }],
    });
  });

  it('{} is every namespace; a selector only the namespaces it matches', () => {
    expect(decideGrant(plain, home({})).reach).toEqual([
      { account: HOME_ACCOUNT, accountId: '123456789012', regions: [EU] },
    ]);
    expect(decideGrant(plain, home({ matchLabels: { team: 'search' } })).reach).toEqual([]);
    expect(decideGrant(plain, home({ matchLabels: { team: 'payments' } })).reach).toHaveLength(1);
  });
});

describe('accountGrant', () => {
  it('reads an AwsAccount object', () => {
    const grant = accountGrant({
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'AwsAccount',
      metadata: { name: 'payments-prod', labels: { env: 'prod', team: 'payments' } },
      spec: {
        accountId: '210987654321',
        regions: [EU, US],
        policyNamespaces: { matchLabels: { team: 'payments' } },
        scope: { functionNames: ['payments-*'], tags: { team: 'payments' } },
      },
    });
    expect(grant).toEqual(payments);
  });
});

describe('scope', () => {
  it.each([
    ['payments-api', { team: 'payments' }, true],
    ['payments-api', {}, false],
    ['orders-api', { team: 'payments' }, false],
  ] as const)('%s with tags %j in scope: %s', (name, tags, expected) => {
    expect(inScope(payments.scope, { name, tags })).toBe(expected);
  });
  it('absent scope is everything', () => {
    expect(scopeFunctions(undefined, [fn('a'), fn('b')]).map((f) => f.name)).toEqual(['a', 'b']);
  });
});

// ---- property: no function outside the grant is ever in a plan's actions ----------------------------------------

const NAMESPACES = ['payments', 'search', 'platform'] as const;
const ACCOUNT_NAMES = ['home', 'payments-prod', 'search-prod', 'sandbox'] as const;

const fnArb = (region: string): fc.Arbitrary<ObservedFunction> =>
  fc
    .record({
      name: fc.constantFrom('payments-api', 'payments-worker', 'orders-api', 'search-api', 'x'),
      team: fc.constantFrom('payments', 'search', undefined),
      memorySize: fc.constantFrom(128, 512, 1024),
      reserved: fc.constantFrom(null, 0, 10),
    })
    .map((r) =>
      fn(r.name, {
        region,
        memorySize: r.memorySize,
        reservedConcurrency: r.reserved,
        tags: r.team ? { team: r.team } : {},
      }),
    );

const policyArb: fc.Arbitrary<PolicyInput> = fc
  .record({
    namespace: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom('p1', 'p2'),
    accounts: fc.option(fc.subarray([...ACCOUNT_NAMES.slice(1), 'nope']), { nil: undefined }),
    byLabel: fc.boolean(),
    regions: fc.option(fc.subarray([EU, US], { minLength: 1 }), { nil: undefined }),
    memorySize: fc.constantFrom(256, 2048),
    reserved: fc.constantFrom(undefined, 0, 5),
  })
  .map((r) =>
    policy(`${r.namespace}/${r.name}`, {
      selector: {
        functionNames: ['*'],
        ...(r.regions ? { regions: r.regions } : {}),
        ...(r.accounts ? { accounts: r.accounts } : {}),
        ...(r.byLabel ? { accountSelector: { matchLabels: { env: 'prod' } } } : {}),
      } as PolicyInput['selector'],
      settings: {
        memorySize: r.memorySize,
        ...(r.reserved !== undefined ? { reservedConcurrency: r.reserved } : {}),
      },
    }),
  );

describe('property', () => {
  it('no function outside the grant is ever in a plan’s actions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(policyArb, { minLength: 1, maxLength: 5, selector: (p) => p.id }),
        fc.array(fc.tuple(fc.constantFrom(...NAMESPACES), fc.constantFrom('payments', 'search', 'platform')), {
          maxLength: 3,
        }),
        fc.array(fnArb(EU), { maxLength: 6 }),
        fc.array(fnArb(US), { maxLength: 6 }),
        (policies, relabels, euFns, usFns) => {
          const namespaceLabels = new Map<string, Record<string, string>>(
            NAMESPACES.map((ns) => [ns, { team: ns, ...(ns === 'platform' ? { home: 'yes' } : {}) }]),
          );
          for (const [ns, team] of relabels) namespaceLabels.set(ns, { team });
          const tenancy = { ...input, namespaceLabels };
          const grants = new Map(policies.map((p) => [p.id, decideGrant(p, tenancy)]));
          const uniq = (fns: ObservedFunction[]) => [...new Map(fns.map((f) => [f.name, f])).values()];
          for (const account of [tenancy.home, ...tenancy.accounts]) {
            for (const region of [EU, US]) {
              const functions = scopeFunctions(account.scope, uniq(region === EU ? euFns : usFns));
              const reaching = policiesFor(account.name, region, policies, grants);
              const fleet: FleetSnapshot = {
                readAt: new Date(0),
                regions: [{ region, functions, scalableTargets: [], scheduledActions: [] }],
              };
              const result = plan(reaching, fleet, new Date(0), { defaultRegions: [EU] });
              for (const f of result.functions) {
                if (f.actions.length === 0) continue;
                // Some policy whose grant includes (account, region) governs it, and it is inside the scope.
                expect(inScope(account.scope, functions.find((x) => x.name === f.name) ?? fn(f.name))).toBe(true);
                const governing = f.policies.map((id) => grants.get(id));
                expect(
                  governing.some((g) => g?.reach.some((r) => r.account === account.name && r.regions.includes(region))),
                ).toBe(true);
                const ns = policies.find((p) => f.policies.includes(p.id))?.namespace ?? '';
                expect(account.policyNamespaces).toBeDefined();
                expect(ns).not.toBe('');
              }
              for (const p of reaching) {
                const g = grants.get(p.id);
                expect(g?.refused.some((r) => r.account === account.name && r.region === undefined)).toBe(false);
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
