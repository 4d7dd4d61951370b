/**
 * The benchmark estate: a deterministic fleet (emulator seed) and 500 LambdaPolicy resources shaped like a real
 * platform team's, plus — computed from the generator's own knowledge, not from the controller's code — the
 * minimum number of AWS calls a full audit of it needs under AWS's quota rules.
 *
 * Shape (fractions of the fleet):
 *   - ~95% governed for memory/timeout (and arm64 for every 5th service): one policy per service, by name glob;
 *   - ~10% `tier: api`, reserved concurrency governed per team (GetFunction per function needed);
 *   - ~2% `tier: edge`, provisioned concurrency on alias `live` with a business-hours window (a provisioned read
 *     per function, and its reserved concurrency, which provisioned must fit in);
 *   - prod timeout overrides at a higher priority (Overridden fields), team-wide Audit policies;
 *   - ~5% untagged functions (absent from the tagging API), ~3% Image packages (arm64 drift is infeasible);
 *   - ~15% of governed fields drift from what the policies declare.
 */
import type { LambdaPolicy } from '../src/api/schema.ts';
import type { SeedDocument, SeedFunction } from '../src/emulator/index.ts';

export const BENCH_REGIONS = ['eu-central-1', 'us-east-1'] as const;
export const SERVICES = 400;
/** Services 0..GOVERNED_SERVICES-1 have a policy; the rest are ungoverned for memory/timeout. */
export const GOVERNED_SERVICES = 380;
export const TEAMS = 40;
export const ACCOUNT_CONCURRENCY = 100_000;

const MEMORY = [256, 512, 1024, 2048] as const;
const TIMEOUT = [10, 30, 60] as const;
const ENVS = ['prod', 'staging', 'dev'] as const;

/** A tiny LCG so every run (and the planning child process) builds the identical estate. */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

export interface FleetFacts {
  region: string;
  functions: number;
  tagged: number;
  /** Functions whose reserved concurrency a policy needs (tier api: governed; tier edge: provisioned must fit). */
  reservedReads: number;
  /** Functions whose provisioned concurrency is governed: one ListProvisionedConcurrencyConfigs each (<= 50 configs). */
  provisionedReads: number;
  /** Governed qualifiers (one `live` alias per edge function). */
  qualifiers: number;
  /** Functions with a governed alias: one ListAliases each (what it serves, its weights, whether it exists). */
  aliasReads: number;
  /**
   * Governed aliases serving a published version: one GetFunction(Qualifier=version) each for that version's
   * immutable memory/timeout/architecture (PendingPublish, pricing).
   */
  servedVersionReads: number;
  /** Distinct layer versions on the region's functions (GetLayerVersionByArn once each under the baseline). */
  layerVersions: number;
  /**
   * Distinct layer versions on Zip functions an Enforce policy moves to arm64: a move is refused unless every layer
   * lists the target, so these are read even without the baseline.
   */
  moveLayerVersions: number;
  /** Log groups under /aws/lambda/ in the region. */
  logGroups: number;
}

export interface Fleet {
  seed: SeedDocument;
  facts: FleetFacts[];
}

function differentFrom<T>(values: readonly T[], desired: T, rand: () => number): T {
  const others = values.filter((v) => v !== desired);
  return others[Math.floor(rand() * others.length)] as T;
}

/** `count` functions spread round-robin over `regions`. */
export function buildFleet(count: number, regions: readonly string[] = BENCH_REGIONS): Fleet {
  const rand = lcg(7);
  const functions: SeedFunction[] = [];
  const facts = new Map<string, FleetFacts>(
    regions.map((region) => [
      region,
      {
        region,
        functions: 0,
        tagged: 0,
        reservedReads: 0,
        provisionedReads: 0,
        qualifiers: 0,
        aliasReads: 0,
        servedVersionReads: 0,
        layerVersions: 0,
        moveLayerVersions: 0,
        logGroups: 0,
      },
    ]),
  );
  // The production fields draw from their own sequence, so the rest of the estate is the one earlier runs measured.
  const prod = lcg(11);
  const layersSeen = new Map<string, Set<string>>(regions.map((r) => [r, new Set<string>()]));
  const moveLayersSeen = new Map<string, Set<string>>(regions.map((r) => [r, new Set<string>()]));
  const drift = () => rand() < 0.15;
  for (let i = 0; i < count; i++) {
    const region = regions[i % regions.length] as string;
    const fact = facts.get(region) as FleetFacts;
    const service = i % SERVICES;
    const fn: SeedFunction = { name: `svc${service}-fn${i}`, region };
    const desiredMemory = MEMORY[service % MEMORY.length] as number;
    const desiredTimeout = TIMEOUT[service % TIMEOUT.length] as number;
    fn.memorySize = drift() ? differentFrom(MEMORY, desiredMemory, rand) : desiredMemory;
    fn.timeout = drift() ? differentFrom(TIMEOUT, desiredTimeout, rand) : desiredTimeout;
    const wantsArm = service % 5 === 0;
    fn.architecture = wantsArm && !drift() ? 'arm64' : 'x86_64';
    if (rand() < 0.03) fn.packageType = 'Image';
    fact.functions++;

    const untagged = rand() < 0.05;
    if (!untagged) {
      fact.tagged++;
      const team = `t${Math.floor(rand() * TEAMS)}`;
      const env = ENVS[Math.floor(rand() * ENVS.length)] as string;
      const roll = rand();
      const tier = roll < 0.105 ? 'api' : roll < 0.126 ? 'edge' : roll < 0.6 ? 'worker' : 'batch';
      fn.tags = { team, env, tier, service: `svc${service}` };
      if (tier === 'api') {
        fact.reservedReads++;
        if (!drift()) fn.reservedConcurrency = 5;
      }
      if (tier === 'edge') {
        fact.reservedReads++;
        fact.provisionedReads++;
        fact.qualifiers++;
        fact.aliasReads++;
        fact.servedVersionReads++;
        const configured = rand() < 0.8;
        fn.aliases = [{ name: 'live', version: '1', ...(configured ? { provisionedConcurrency: 1 } : {}) }];
      }
    }
    addProductionFields(fn, prod, fact, layersSeen.get(region) as Set<string>);
    const moves = wantsArm && service < GOVERNED_SERVICES && fn.architecture === 'x86_64' && fn.packageType !== 'Image';
    if (moves && fn.layers) {
      const seen = moveLayersSeen.get(region) as Set<string>;
      for (const l of fn.layers) seen.add(l.name);
      fact.moveLayerVersions = seen.size;
    }
    functions.push(fn);
  }
  return {
    seed: { accountConcurrency: ACCOUNT_CONCURRENCY, functions },
    facts: [...facts.values()],
  };
}

const LAYER_POOL = 8;

/**
 * What the production baseline looks at: layers from a shared pool (x86-only and dual-architecture), dead-letter
 * queues, EventInvokeConfigs, log groups with mixed retention, JSON logging, tracing, a few secret-looking variables
 * and deprecated runtimes.
 */
function addProductionFields(fn: SeedFunction, rand: () => number, fact: FleetFacts, layers: Set<string>): void {
  if (rand() < 0.25) {
    const k = Math.floor(rand() * LAYER_POOL);
    fn.layers = [
      {
        name: `lib-${k}`,
        compatibleArchitectures: k % 2 === 0 ? ['x86_64'] : ['x86_64', 'arm64'],
        codeSize: 1_000_000,
      },
    ];
    layers.add(`lib-${k}`);
    fact.layerVersions = layers.size;
  }
  if (rand() < 0.2) fn.deadLetterTarget = `arn:aws:sqs:${fn.region}:123456789012:dlq`;
  if (rand() < 0.15) fn.asyncInvocation = { maximumRetryAttempts: rand() < 0.5 ? 1 : 2 };
  if (rand() < 0.7) {
    const roll = rand();
    fn.logRetentionDays = roll < 0.4 ? 30 : roll < 0.7 ? 7 : 'Never';
    fact.logGroups++;
  }
  if (rand() < 0.3) fn.logging = { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' };
  if (rand() < 0.3) fn.tracing = 'Active';
  if (rand() < 0.1) fn.environment = { TABLE: 'orders', DB_PASSWORD: 'bench-not-a-secret' };
  if (fn.packageType !== 'Image') fn.runtime = rand() < 0.05 ? 'nodejs18.x' : 'nodejs22.x';
}

/** The production-baseline Audit policy (examples/policies/production-baseline.yaml) over every function. */
export function productionBaseline(): LambdaPolicy {
  return policy('platform', 'production-baseline', {
    mode: 'Audit',
    selector: { functionNames: ['*'] },
    settings: {
      logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
      tracing: 'Active',
      asyncInvocation: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 },
      logRetentionDays: 30,
    },
    checks: {
      maxPackageSizeMB: 50,
      runtime: { deprecatedWithinDays: 90 },
      noSecretsInEnvironment: true,
      asyncFailureDestination: 'Required',
      layersSupportArchitecture: true,
    },
  });
}

function policy(namespace: string, name: string, spec: LambdaPolicy['spec']): LambdaPolicy {
  return { apiVersion: 'lambdapolicy.io/v1alpha1', kind: 'LambdaPolicy', metadata: { name, namespace }, spec };
}

/** The 500 policies (independent of fleet size, so the quick run plans against the same rule set). */
export function buildPolicies(): LambdaPolicy[] {
  const out: LambdaPolicy[] = [];
  for (let s = 0; s < GOVERNED_SERVICES; s++) {
    out.push(
      policy(`team-${s % 10}`, `svc${s}`, {
        priority: 1,
        selector: { functionNames: [`svc${s}-*`], excludeFunctionNames: ['*-canary'] },
        settings: {
          memorySize: MEMORY[s % MEMORY.length] as number,
          timeout: TIMEOUT[s % TIMEOUT.length] as number,
          ...(s % 5 === 0 ? { architecture: 'arm64' as const } : {}),
        },
      }),
    );
  }
  for (let t = 0; t < TEAMS; t++) {
    out.push(
      policy('platform', `reserved-t${t}`, {
        selector: { tags: { tier: 'api', team: `t${t}` } },
        settings: { reservedConcurrency: 5 },
      }),
    );
  }
  for (let k = 0; k < TEAMS / 2; k++) {
    out.push(
      policy('platform', `edge-${k}`, {
        selector: {
          tags: { tier: 'edge' },
          tagExpressions: [{ key: 'team', operator: 'In', values: [`t${2 * k}`, `t${2 * k + 1}`] }],
        },
        settings: {
          provisionedConcurrency: {
            qualifier: 'live',
            value: 1,
            windows: [
              {
                name: 'business-hours',
                start: '0 8 * * 1-5',
                end: '0 19 * * 1-5',
                timezone: 'Europe/Berlin',
                value: 2,
              },
            ],
          },
        },
      }),
    );
  }
  for (let k = 0; k < TEAMS / 2; k++) {
    out.push(
      policy('platform', `prod-timeout-${k}`, {
        priority: 5,
        selector: {
          tagExpressions: [
            { key: 'env', operator: 'In', values: ['prod'] },
            { key: 'team', operator: 'In', values: [`t${2 * k}`, `t${2 * k + 1}`] },
          ],
        },
        settings: { timeout: 60 },
      }),
    );
  }
  for (let t = 0; t < TEAMS; t++) {
    out.push(
      policy('audit', `audit-t${t}`, {
        mode: 'Audit',
        selector: { tags: { team: `t${t}` }, tagExpressions: [{ key: 'tier', operator: 'NotIn', values: ['batch'] }] },
        settings: { memorySize: 1024 },
      }),
    );
  }
  return out;
}

export type MinimumBucket = 'lambda' | 'lambda-getfunction' | 'tagging' | 'autoscaling' | 'logs';

export interface MinimumCalls {
  byBucket: Record<MinimumBucket, number>;
  byRegion: Record<string, Record<MinimumBucket, number>>;
  /** How each bucket's minimum is made up (for the report). */
  terms: Record<MinimumBucket, string>;
}

/**
 * The fewest calls AWS's APIs allow for a full audit, per quota bucket, with no scalable targets or scheduled
 * actions yet (a fresh estate): per region
 *   lambda:            ceil(n/50) ListFunctions + 1 GetAccountSettings + 1 ListProvisionedConcurrencyConfigs page per
 *                      function whose provisioned concurrency is governed (AWS caps the sum over all its qualifiers,
 *                      so every config is needed; one page holds 50) + 1 ListAliases per function with a governed
 *                      alias (the version it serves and its routing weights: no other read shows the weights)
 *   lambda-getfunction: 1 GetFunction per function whose reserved concurrency matters + 1 per governed alias serving a
 *                      published version (that version's configuration: one call in the 100 req/s bucket, where
 *                      ListVersionsByFunction would page 50 versions a call in the 15 req/s one)
 *   tagging:           ceil(tagged/100) GetResources
 *   autoscaling:       1 DescribeScalableTargets + 1 DescribeScheduledActions page (DescribeScalingPolicies only once a
 *                      governed qualifier has a target: none in a fresh estate)
 */
export function minimumAuditCalls(facts: readonly FleetFacts[], options: { baseline?: boolean } = {}): MinimumCalls {
  const byRegion: Record<string, Record<MinimumBucket, number>> = {};
  const byBucket: Record<MinimumBucket, number> = {
    lambda: 0,
    'lambda-getfunction': 0,
    tagging: 0,
    autoscaling: 0,
    logs: 0,
  };
  for (const f of facts) {
    // The baseline governs asyncInvocation and logRetentionDays on every function and checks layers: one config
    // list per function, one GetLayerVersionByArn per distinct layer version, and the cheaper of listing the
    // /aws/lambda/ groups (50 a page) or one lookup per function.
    const baseline = options.baseline === true;
    const r: Record<MinimumBucket, number> = {
      lambda:
        Math.max(1, Math.ceil(f.functions / 50)) +
        1 +
        f.provisionedReads +
        f.aliasReads +
        (baseline ? f.functions + f.layerVersions : f.moveLayerVersions),
      'lambda-getfunction': f.reservedReads + f.servedVersionReads,
      tagging: Math.max(1, Math.ceil(f.tagged / 100)),
      autoscaling: 2,
      logs: baseline ? Math.min(f.functions, Math.max(1, Math.ceil(f.logGroups / 50))) : 0,
    };
    byRegion[f.region] = r;
    for (const b of Object.keys(byBucket) as MinimumBucket[]) byBucket[b] += r[b];
  }
  return {
    byBucket,
    byRegion,
    terms: {
      lambda:
        'ceil(n/50) ListFunctions + GetAccountSettings + 1 config list and 1 alias list per provisioned-governed function' +
        (options.baseline
          ? ' + 1 EventInvokeConfig list per baseline function + 1 per distinct layer version'
          : ' + 1 per distinct layer version on a function moving to arm64'),
      'lambda-getfunction': '1 per reserved-relevant function + 1 per governed alias (its served version)',
      tagging: 'ceil(tagged/100) GetResources',
      autoscaling: 'DescribeScalableTargets + DescribeScheduledActions',
      logs: options.baseline ? 'min(n, ceil(log groups/50)) DescribeLogGroups' : 'none',
    },
  };
}
