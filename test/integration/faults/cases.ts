/**
 * The fault cases of docs/reliability.md. Each row: the fault or bad input, how it is injected, what must happen;
 * the runner adds what did happen and the writes lost or duplicated. The fleet is the CLI tests' purpose-made one
 * (test/fixtures/cli/small-fleet.yaml with ./policies): eu-central-1/api-orders drifts on every governed field,
 * eu-central-1/api-big and the us-east-1 functions on some.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { overlapMs } from '../../../bench/overlap.ts';
import type { AnswerFault, AnswerFaultKind, FaultOptions } from '../../../src/emulator/faults.ts';
import { validateSeed } from '../../../src/emulator/seed.ts';
import { globMatches, type StepCounter } from '../../../src/engine/glob.ts';
import { type PlanDoc, REGIONS, startTestEmulator, type WriteEntry } from '../cli/harness.ts';
import { type ApplyRun, applyScenario, cli, crashedIn, type FaultCase, inputCase, type Outcome } from './harness.ts';

const EU = 'eu-central-1';
const US = 'us-east-1';
const dir = mkdtempSync(join(tmpdir(), 'lpc-faults-'));

const about = (w: WriteEntry, region: string, name: string): boolean =>
  w.region === region && (w.function === name || (w.resourceId ?? '').split(':')[1] === name);
const writesTo = (run: ApplyRun, region: string, name: string): number =>
  run.writes.filter((w) => about(w, region, name)).length;

function refusal(doc: PlanDoc | undefined, region: string, name: string): string | undefined {
  return doc?.functions.find((f) => f.region === region && f.name === name)?.refusals[0]?.message;
}

/** The faulted run wrote nothing at all, and exited with `code`. */
function nothingWritten(code: number) {
  return (run: ApplyRun): string | undefined => {
    if (run.result.code !== code) return `exit ${run.result.code}, expected ${code}`;
    if (run.writes.length > 0) return `${run.writes.length} writes`;
    return undefined;
  };
}

/** The faulted run still did everything: exit 0 or 2 (Audit drift) and every function converged on the first go. */
function recovered(run: ApplyRun): string | undefined {
  if (![0, 2].includes(run.result.code)) return `exit ${run.result.code}: ${run.result.stderr.slice(0, 200)}`;
  const left = run.doc?.after?.functions.reduce((n, f) => n + f.actions.length, 0);
  if (left !== 0) return `${left ?? '?'} actions left after apply`;
  return undefined;
}

/**
 * One function's answer did not parse: that function is reported (NotRead naming the problem) and never written;
 * the others are written as usual.
 */
function onlyThatFunctionHeldBack(region: string, name: string, mentions: RegExp) {
  return (run: ApplyRun): string | undefined => {
    if (writesTo(run, region, name) > 0) return `${writesTo(run, region, name)} writes to ${region}/${name}`;
    const message = refusal(run.doc, region, name);
    if (message === undefined || !mentions.test(message)) return `no NotRead refusal naming ${mentions} on ${name}`;
    if (writesTo(run, US, 'batch-nightly') === 0) return 'the other functions were not written either';
    return undefined;
  };
}

/** The field's reader failed for one function: the field is refused NotRead there, the rest proceeds. */
function fieldNotRead(region: string, name: string, field: string) {
  return (run: ApplyRun): string | undefined => {
    const f = run.doc?.functions.find((x) => x.region === region && x.name === name);
    if (!f?.refusals.some((r) => r.field === field && r.reason === 'NotRead')) return `no NotRead on ${field}`;
    if (f.actions.some((a) => a.api.includes(field === 'reservedConcurrency' ? 'FunctionConcurrency' : 'Provisioned')))
      return `an action on ${field}`;
    if (writesTo(run, US, 'batch-nightly') === 0) return 'the other functions were not written';
    return undefined;
  };
}

const answer = (api: string, kind: AnswerFaultKind, extra: Omit<AnswerFault, 'api' | 'kind'> = {}): FaultOptions => ({
  answers: [{ api, kind, ...extra }],
});
const many = 1000;

/** Read-side answers that break the whole listing of a region. */
const listingFaults: FaultCase[] = [
  {
    fault: 'ListFunctions never answers (every attempt)',
    injection: 'emulator answer fault `hang`, count 1000',
    expected: 'each attempt fails at its deadline, 3 attempts, exit 1, no write',
    run: () => applyScenario({ faults: answer('ListFunctions', 'hang', { count: many }), check: nothingWritten(1) }),
  },
  {
    fault: 'ListFunctions hangs once',
    injection: '`hang`, count 1',
    expected: 'retried after the deadline; apply completes',
    run: () => applyScenario({ faults: answer('ListFunctions', 'hang'), check: recovered }),
  },
  {
    fault: 'ListFunctions body trickled byte by byte (never idle)',
    injection: '`trickle`, count 1000',
    expected: 'whole-attempt deadline fails it; exit 1, no write',
    run: () => applyScenario({ faults: answer('ListFunctions', 'trickle', { count: many }), check: nothingWritten(1) }),
  },
  {
    fault: 'ListFunctions JSON truncated mid-way',
    injection: '`truncate`, count 1000',
    expected: 'exit 1 naming ListFunctions, no write',
    run: () =>
      applyScenario({ faults: answer('ListFunctions', 'truncate', { count: many }), check: nothingWritten(1) }),
  },
  {
    fault: 'ListFunctions JSON truncated, once',
    injection: '`truncate`, count 1',
    expected: 'retried as transient; apply completes',
    run: () => applyScenario({ faults: answer('ListFunctions', 'truncate'), check: recovered }),
  },
  {
    fault: 'ListFunctions answered by a proxy HTML 502 page, once',
    injection: '`html`, count 1',
    expected: 'retried as transient; apply completes',
    run: () => applyScenario({ faults: answer('ListFunctions', 'html'), check: recovered }),
  },
  {
    fault: 'ListFunctions HTML 502 on every attempt',
    injection: '`html`, count 1000',
    expected: 'exit 1 after 3 attempts, no write',
    run: () => applyScenario({ faults: answer('ListFunctions', 'html', { count: many }), check: nothingWritten(1) }),
  },
  {
    fault: 'ListFunctions 200 with an empty body',
    injection: '`empty`, count 1000',
    expected: 'not read as "no functions": exit 1, no write',
    run: () => applyScenario({ faults: answer('ListFunctions', 'empty', { count: many }), check: nothingWritten(1) }),
  },
  {
    fault: 'ListFunctions repeats its NextMarker forever',
    injection: '`repeatToken`, count 1000',
    expected: 'exit 1, error names ListFunctions and the region; no write',
    run: () =>
      applyScenario({
        faults: answer('ListFunctions', 'repeatToken', { count: many, value: 'loop' }),
        check: (run) =>
          nothingWritten(1)(run) ??
          (/ListFunctions in (eu-central-1|us-east-1).*already sent/.test(run.result.stderr)
            ? undefined
            : 'message does not name API and region'),
      }),
  },
  {
    fault: 'ListFunctions: Functions is null',
    injection: '`set` Functions = null',
    expected: 'not read as "no functions": exit 1, no write',
    run: () =>
      applyScenario({
        faults: answer('ListFunctions', 'set', { path: 'Functions', value: null, count: many }),
        check: nothingWritten(1),
      }),
  },
  {
    fault: 'ListFunctions: Functions is a string',
    injection: '`set` Functions = "oops"',
    expected: 'exit 1, no write',
    run: () =>
      applyScenario({
        faults: answer('ListFunctions', 'set', { path: 'Functions', value: 'oops', count: many }),
        check: nothingWritten(1),
      }),
  },
  {
    fault: 'GetResources (tags) repeats its PaginationToken',
    injection: '`repeatToken` on GetResources, count 1000',
    expected: 'exit 1 naming GetResources; no write',
    run: () =>
      applyScenario({
        faults: answer('GetResources', 'repeatToken', { count: many, value: 'loop' }),
        check: (run) =>
          nothingWritten(1)(run) ?? (/GetResources in/.test(run.result.stderr) ? undefined : 'API not named'),
      }),
  },
  {
    fault: 'GetResources HTML 502, twice',
    injection: '`html` on GetResources, count 2',
    expected: 'retried; apply completes',
    run: () => applyScenario({ faults: answer('GetResources', 'html', { count: 2 }), check: recovered }),
  },
  {
    fault: 'DescribeScheduledActions repeats its NextToken',
    injection: '`repeatToken`, count 1000',
    expected: 'exit 1 naming DescribeScheduledActions; no write',
    run: () =>
      applyScenario({
        faults: answer('DescribeScheduledActions', 'repeatToken', { count: many, value: 'loop' }),
        // The service refuses a token it never issued; a token it did issue coming back is caught by the client
        // (test/integration/aws/paginate.test.ts). Either way the listing ends with an error naming the API.
        check: (run) =>
          nothingWritten(1)(run) ?? (/DescribeScheduledActions/.test(run.result.stderr) ? undefined : 'API not named'),
      }),
  },
  {
    fault: 'DescribeScalableTargets truncated JSON',
    injection: '`truncate`, count 1000',
    expected: 'exit 1, no write',
    run: () =>
      applyScenario({
        faults: answer('DescribeScalableTargets', 'truncate', { count: many }),
        check: nothingWritten(1),
      }),
  },
  {
    fault: 'GetAccountSettings never answers',
    injection: '`hang`, count 1000',
    expected: 'exit 1 within the deadlines, no write',
    run: () =>
      applyScenario({ faults: answer('GetAccountSettings', 'hang', { count: many }), check: nothingWritten(1) }),
  },
];

/** One function's fields broken in an otherwise good answer. */
const fieldFaults: FaultCase[] = [
  ...(
    [
      // The SDK reads a JSON null as absent: either way it is not a memory size.
      ['MemorySize null', 'MemorySize', null, /MemorySize (null|missing)/],
      ['MemorySize a string', 'MemorySize', 'big', /MemorySize "big"/],
      ['MemorySize out of range (99999999)', 'MemorySize', 99_999_999, /MemorySize 99999999/],
      ['Timeout missing', 'Timeout', undefined, /Timeout missing/],
      ['Architectures an unknown enum', 'Architectures', ['sparc'], /Architectures/],
      ['Architectures a number', 'Architectures', 7, /Architectures 7/],
      ['PackageType an unknown enum', 'PackageType', 'Container', /PackageType "Container"/],
    ] as const
  ).map(
    ([label, field, value, mentions]): FaultCase => ({
      fault: `ListFunctions: ${label} on one function`,
      injection: `\`${value === undefined ? 'delete' : 'set'}\` Functions.1.${field} (eu-central-1/api-orders)`,
      expected: 'that function reported NotRead and never written; the others written',
      run: () =>
        applyScenario({
          faults: {
            answers: [
              {
                api: 'ListFunctions',
                region: EU,
                kind: value === undefined ? 'delete' : 'set',
                path: `Functions.1.${field}`,
                value,
                count: many,
              },
            ],
          },
          check: onlyThatFunctionHeldBack(EU, 'api-orders', mentions),
        }),
    }),
  ),
  {
    fault: 'ListFunctions: a 1 MB string as a function name',
    injection: '`set` Functions.1.FunctionName = "x" x 1,000,000',
    expected: 'no crash; matches no policy (globs are linear); never written',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            { api: 'ListFunctions', region: EU, kind: 'set', path: 'Functions.1.FunctionName', value: 'x'.repeat(1e6) },
          ],
        },
        check: (run) => (run.writes.some((w) => (w.function ?? '').length > 1000) ? 'written' : undefined),
      }),
  },
  {
    fault: 'ListFunctions: a 5 MB Description and unknown fields',
    injection: '`set` Functions.0.Description (5 MB), Functions.0.Surprise',
    expected: 'ignored; apply completes',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            { api: 'ListFunctions', region: EU, kind: 'set', path: 'Functions.0.Description', value: 'd'.repeat(5e6) },
          ],
        },
        check: recovered,
      }),
  },
  {
    fault: 'ListFunctions: FunctionArn missing on one function',
    injection: '`delete` Functions.1.FunctionArn',
    expected: 'that function skipped (cannot be joined with its tags); never written',
    run: () =>
      applyScenario({
        faults: {
          answers: [{ api: 'ListFunctions', region: EU, kind: 'delete', path: 'Functions.1.FunctionArn', count: many }],
        },
        check: (run) => (writesTo(run, EU, 'api-orders') > 0 ? 'api-orders written' : undefined),
      }),
  },
  {
    fault: 'GetResources: a tag value is a number',
    injection: '`set` ResourceTagMappingList.*.Tags.0.Value = 42',
    expected: 'the tagged functions are reported, not selected on a guess; no write to them',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'GetResources',
              region: EU,
              kind: 'set',
              path: 'ResourceTagMappingList.*.Tags.0.Value',
              value: 42,
              count: many,
            },
          ],
        },
        check: (run) => {
          const eu = run.writes.filter((w) => w.region === EU).length;
          return eu > 0 ? `${eu} writes in eu-central-1` : undefined;
        },
      }),
  },
  {
    fault: 'GetResources: Tags is null',
    injection: '`set` ResourceTagMappingList.*.Tags = null',
    expected:
      'read as untagged (the SDK drops nulls): nothing selected by tags is written; name-only policies still apply',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'GetResources',
              region: EU,
              kind: 'set',
              path: 'ResourceTagMappingList.*.Tags',
              value: null,
              count: many,
            },
          ],
        },
        // team-a/api-big-memory selects api-big by name alone: its write does not depend on tags.
        check: (run) => {
          const eu = run.writes.filter((w) => w.region === EU && !about(w, EU, 'api-big')).length;
          return eu > 0 ? `${eu} tag-selected writes in eu-central-1` : undefined;
        },
      }),
  },
  {
    fault: 'GetAccountSettings: ConcurrentExecutions a string',
    injection: '`set` AccountLimit.ConcurrentExecutions = "lots" (us-east-1)',
    expected: 'account unknown: reserved increases refused NotRead; other fields written',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'GetAccountSettings',
              region: US,
              kind: 'set',
              path: 'AccountLimit.ConcurrentExecutions',
              value: 'lots',
              count: many,
            },
          ],
        },
        check: (run) => {
          const puts = run.writes.filter((w) => w.region === US && w.api === 'PutFunctionConcurrency').length;
          if (puts > 0) return `${puts} reservations raised in us-east-1`;
          const message = refusal(run.doc, US, 'api-orders');
          if (!message?.includes('account settings')) return 'no NotRead refusal naming the account settings';
          return writesTo(run, US, 'batch-nightly') === 0 ? 'batch-nightly not written' : undefined;
        },
      }),
  },
  {
    fault: 'GetFunction: ReservedConcurrentExecutions a string',
    injection: '`set` Concurrency.ReservedConcurrentExecutions = "x"',
    expected: 'reserved concurrency NotRead on those functions; other fields proceed',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'GetFunction',
              region: EU,
              kind: 'set',
              path: 'Concurrency',
              value: { ReservedConcurrentExecutions: 'x' },
              count: many,
            },
          ],
        },
        check: fieldNotRead(EU, 'api-orders', 'reservedConcurrency'),
      }),
  },
  {
    fault: 'ListProvisionedConcurrencyConfigs: requested value null',
    injection: '`set` ProvisionedConcurrencyConfigs.*.RequestedProvisionedConcurrentExecutions = null',
    expected: 'provisioned concurrency NotRead there; other fields proceed',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'ListProvisionedConcurrencyConfigs',
              region: EU,
              kind: 'set',
              path: 'ProvisionedConcurrencyConfigs.*.RequestedProvisionedConcurrentExecutions',
              value: null,
              count: many,
            },
          ],
        },
        check: fieldNotRead(EU, 'api-orders', 'provisionedConcurrency'),
      }),
  },
  {
    fault: 'ListProvisionedConcurrencyConfigs: Status an unknown enum',
    injection: '`set` ProvisionedConcurrencyConfigs.*.Status = "WEIRD"',
    expected: 'provisioned concurrency NotRead there',
    run: () =>
      applyScenario({
        faults: {
          answers: [
            {
              api: 'ListProvisionedConcurrencyConfigs',
              region: EU,
              kind: 'set',
              path: 'ProvisionedConcurrencyConfigs.*.Status',
              value: 'WEIRD',
              count: many,
            },
          ],
        },
        check: fieldNotRead(EU, 'api-orders', 'provisionedConcurrency'),
      }),
  },
];

/** Faults on the writes themselves. */
const writeFaults: FaultCase[] = [
  {
    fault: 'UpdateFunctionConfiguration applied, answer never arrives',
    injection: '`hang` on UpdateFunctionConfiguration, count 1000',
    expected: 'reported failed at the deadline (exit 1), not re-sent (it may have landed); the next apply sees it done',
    run: () =>
      applyScenario({
        faults: answer('UpdateFunctionConfiguration', 'hang', { count: many }),
        check: (run) => (run.result.code === 1 ? undefined : `exit ${run.result.code}, expected 1`),
      }),
  },
  {
    fault: 'UpdateFunctionConfiguration applied, answer truncated',
    injection: '`truncate` on UpdateFunctionConfiguration, count 1000',
    expected: 'reported failed, not re-sent; no duplicate',
    run: () =>
      applyScenario({
        faults: answer('UpdateFunctionConfiguration', 'truncate', { count: many }),
        check: (run) => ([1, 2].includes(run.result.code) ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: 'PutScheduledAction applied, proxy answers HTML 502',
    injection: '`html` on PutScheduledAction, count 1000',
    expected: 'reported failed, not re-sent; no duplicate',
    run: () =>
      applyScenario({
        faults: answer('PutScheduledAction', 'html', { count: many }),
        check: (run) => ([1, 2].includes(run.result.code) ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: 'RegisterScalableTarget applied, answer trickled forever',
    injection: '`trickle` on RegisterScalableTarget, count 1000',
    expected: 'whole-attempt deadline; reported failed; no duplicate',
    run: () =>
      applyScenario({
        faults: answer('RegisterScalableTarget', 'trickle', { count: many }),
        check: (run) => ([1, 2].includes(run.result.code) ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: 'UpdateFunctionConfiguration: AWS ServiceException (500), once',
    injection: 'forced error ServiceException, count 1',
    expected: 'AWS said it failed: retried, applied once; apply completes',
    run: () =>
      applyScenario({
        faults: { forced: [{ api: 'UpdateFunctionConfiguration', error: 'ServiceException', count: 1 }] },
        check: recovered,
      }),
  },
  {
    fault: 'PutFunctionConcurrency: burst of 5xx (5 in a row)',
    injection: 'forced ServiceException, count 5',
    expected: 'the function fails after 3 attempts, the others proceed; exit 1 (a failed write)',
    run: () =>
      applyScenario({
        faults: { forced: [{ api: 'PutFunctionConcurrency', error: 'ServiceException', count: 5 }] },
        check: (run) => {
          if (run.result.code !== 1) return `exit ${run.result.code}`;
          return writesTo(run, US, 'batch-nightly') === 0 ? 'the others were not written' : undefined;
        },
      }),
  },
  {
    fault: 'Throttling with Retry-After on every write API, once each',
    injection: 'forced TooManyRequestsException on `*`, count 3',
    expected: 'paused for Retry-After, retried; apply completes',
    run: () =>
      applyScenario({
        faults: { forced: [{ api: '*', error: 'TooManyRequestsException', count: 3, retryAfterSeconds: 1 }] },
        check: recovered,
      }),
  },
  {
    fault: 'ResourceConflictException (update in progress), twice',
    injection: 'forced ResourceConflictException on UpdateFunctionCode, count 2',
    expected: 'retried within bounds; apply completes',
    run: () =>
      applyScenario({
        faults: { forced: [{ api: 'UpdateFunctionCode', error: 'ResourceConflictException', count: 2 }] },
        check: recovered,
      }),
  },
  {
    fault: 'An update ends LastUpdateStatus Failed',
    injection: 'failUpdates UpdateFunctionConfiguration on api-orders',
    expected: 'that function reported failed, the others proceed; exit 1 (a failed write)',
    run: () =>
      applyScenario({
        faults: { failUpdates: [{ api: 'UpdateFunctionConfiguration', function: 'api-orders' }] },
        resends: { count: 1, why: 'the update AWS failed is sent again by the next apply' },
        check: (run) => (run.result.code === 1 ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: 'Latency spike beyond the deadline on every write',
    injection: 'latencyMs 2500 on the write APIs (deadline 1500)',
    expected: 'writes fail at the deadline, not re-sent; no duplicate, nothing lost after a clean apply',
    run: () =>
      applyScenario({
        faults: {
          latencyMs: {
            UpdateFunctionConfiguration: 2500,
            UpdateFunctionCode: 2500,
            PutFunctionConcurrency: 2500,
            DeleteFunctionConcurrency: 2500,
            PutScheduledAction: 2500,
            RegisterScalableTarget: 2500,
            PutProvisionedConcurrencyConfig: 2500,
          },
        },
        settleMs: 3000,
        check: (run) => ([1, 2].includes(run.result.code) ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: 'Latency spike below the deadline on every call',
    injection: 'latencyMs 300 on `*`',
    expected: 'slower, same result; apply completes',
    run: () => applyScenario({ faults: { latencyMs: 300 }, check: recovered }),
  },
  {
    fault: 'Random 5xx on 20% of all calls',
    injection: 'errorRate `*` 0.2, seed 7',
    expected: 'no crash; whatever failed is done by the next apply; no duplicate',
    run: () =>
      applyScenario({
        faults: { errorRate: { '*': 0.2 }, seed: 7 },
        check: (run) => ([0, 1, 2].includes(run.result.code) ? undefined : `exit ${run.result.code}`),
      }),
  },
  {
    fault: '`apply` whose re-check fails after the writes',
    injection: '`html` on ListFunctions after the first 2 answers',
    expected: 'every write made is printed; exit 1 naming the re-check',
    run: () =>
      applyScenario({
        faults: answer('ListFunctions', 'html', { skip: 2, count: many }),
        check: (run) => {
          const reported = (run.doc?.executions ?? []).flatMap((e) => e.outcomes).filter((o) => o.status === 'applied');
          if (run.result.code !== 1) return `exit ${run.result.code}`;
          return reported.length === run.writes.length ? undefined : `${reported.length}/${run.writes.length} reported`;
        },
      }),
  },
];

function policyFile(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const POLICY = (extra: string, selector = '    functionNames: ["api-*"]') => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: p, namespace: ns }
spec:
  selector:
${selector}
  settings:
    memorySize: 1024
${extra}`;

const planArgs = (file: string) => ['plan', '-f', file, '--regions', REGIONS, '--aws-endpoint', 'http://127.0.0.1:9'];

const inputFaults: FaultCase[] = [
  {
    fault: 'ReDoS globs (`a*a*a*a*a*a*a*a*c` and worse) against 64-character names',
    injection: 'engine call with a step counter (bench times it)',
    expected: 'at most (64+1) x (17+1) comparisons; no backtracking',
    run: async () => {
      // The issue's glob, and near-misses that make the matcher search every middle segment.
      const names = ['a'.repeat(64), `${'a'.repeat(63)}c`, `${'ab'.repeat(31)}ac`, `${'b'.repeat(63)}c`];
      let worst = 0;
      for (const glob of ['a*a*a*a*a*a*a*a*c', 'a*b*a*b*a*b*a*b*c', '*aaaaaaab*c']) {
        for (const name of names) {
          const counter: StepCounter = { steps: 0 };
          globMatches(glob, name, counter);
          worst = Math.max(worst, counter.steps);
        }
      }
      const ok = worst <= 65 * 18;
      return {
        observed: `at most ${worst} comparisons over 12 glob/name pairs`,
        expected: ok,
        crashed: false,
        hung: false,
        lost: 0,
        duplicated: 0,
      };
    },
  },
  {
    fault: 'A glob with 17 wildcards',
    injection: 'policy file',
    expected: 'refused: exit 1, the field named',
    run: () =>
      inputCase(
        planArgs(policyFile('wild.yaml', POLICY('', `    functionNames: ["${'a*'.repeat(17)}"]`))),
        1,
        /functionNames\[0\].*at most 16 wildcards/,
      ),
  },
  {
    fault: 'A glob of 81 characters',
    injection: 'policy file',
    expected: 'refused: exit 1',
    run: () =>
      inputCase(
        planArgs(policyFile('long.yaml', POLICY('', `    functionNames: ["${'a'.repeat(81)}"]`))),
        1,
        /at most 80/,
      ),
  },
  {
    fault: 'interval: 597h (overflows a JavaScript timer)',
    injection: 'policy file',
    expected: 'refused: must be at most 24h',
    run: () => inputCase(planArgs(policyFile('interval.yaml', POLICY('  interval: 597h\n'))), 1, /at most 24h/),
  },
  {
    fault: 'A 5 MiB policy file',
    injection: 'file of comments',
    expected: 'refused before parsing, naming the file',
    run: () =>
      inputCase(planArgs(policyFile('huge.yaml', `# ${'x'.repeat(5 * 1024 * 1024)}\n`)), 1, /huge\.yaml: is \d+ bytes/),
  },
  {
    fault: '6,000 YAML documents in one file',
    injection: 'file of `---` separated documents',
    expected: 'refused before parsing, naming the file',
    run: () =>
      inputCase(
        planArgs(policyFile('docs.yaml', 'a: 1\n---\n'.repeat(6000))),
        1,
        /docs\.yaml: holds \d+ YAML documents/,
      ),
  },
  {
    fault: 'A FIFO passed as a policy file',
    injection: 'mkfifo',
    expected: 'refused at once (no blocking read), naming it',
    run: () => {
      const fifo = join(dir, 'fifo.yaml');
      execFileSync('mkfifo', [fifo]);
      return inputCase(planArgs(fifo), 1, /fifo\.yaml: is a FIFO/);
    },
  },
  {
    fault: 'A policy file with no policy',
    injection: 'comments and `---` only',
    expected: 'exit 1: nothing to check',
    run: () =>
      inputCase(planArgs(policyFile('empty.yaml', '# none\n---\n')), 1, /no LambdaPolicy in .*nothing to check/),
  },
  {
    fault: 'YAML alias bomb',
    injection: 'nine levels of 9 aliases',
    expected: "refused as that document's error (file named; a watched source keeps its last good set)",
    run: () => {
      const lines = ['a0: &a0 [x]'];
      for (let i = 1; i < 10; i++)
        lines.push(
          `a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      return inputCase(
        planArgs(policyFile('bomb.yaml', `${lines.join('\n')}\n`)),
        1,
        /bomb\.yaml#0.*Excessive alias count/,
      );
    },
  },
  {
    fault: 'An unknown field in spec',
    injection: 'policy file',
    expected: 'refused naming the field',
    run: () =>
      inputCase(
        planArgs(policyFile('unknown.yaml', POLICY('  surprise: 1\n'))),
        1,
        /surprise|must NOT have additional/,
      ),
  },
  {
    fault: 'Emulator seed: alias on version 99999999999',
    injection: 'seed document',
    expected: 'refused naming the field (instead of publishing 10^11 versions)',
    run: async () => {
      let message = '';
      try {
        validateSeed({ functions: [{ name: 'f', region: EU, aliases: [{ name: 'live', version: '99999999999' }] }] });
      } catch (error) {
        message = (error as Error).message;
      }
      const ok = /aliases\[0\]\.version/.test(message);
      return { observed: message || 'accepted', expected: ok, crashed: false, hung: false, lost: 0, duplicated: 0 };
    },
  },
  {
    fault: 'AWS endpoint refuses connections',
    injection: '--aws-endpoint http://127.0.0.1:9',
    expected: 'exit 1 naming the transport error; no hang',
    run: () => inputCase(planArgs(policyFile('ok.yaml', POLICY(''))), 1, /error:/),
  },
  {
    fault: 'AWS endpoint accepts TCP and never answers',
    injection: 'raw TCP server',
    expected: 'exit 1 within the deadlines (3 attempts each)',
    run: async () => {
      const sockets = new Set<Socket>();
      const server = createServer((s) => {
        sockets.add(s);
        s.on('error', () => {});
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        return await inputCase(
          [
            'plan',
            '-f',
            policyFile('ok2.yaml', POLICY('')),
            '--regions',
            EU,
            '--aws-endpoint',
            `http://127.0.0.1:${port}`,
          ],
          1,
          /timeout|timed out|deadline/i,
        );
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  },
  {
    fault: 'An AWS answer announcing 100 MB',
    injection: 'HTTP server: 200 with Content-Length 104857600',
    expected: 'refused before reading (64 MiB bound), not retried; exit 1',
    run: async () => {
      const server = createHttpServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '104857600' });
        res.write('{');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        return await inputCase(
          [
            'plan',
            '-f',
            policyFile('ok3.yaml', POLICY('')),
            '--regions',
            EU,
            '--aws-endpoint',
            `http://127.0.0.1:${port}`,
          ],
          1,
          /exceeds the 67108864-byte limit/,
        );
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  },
  {
    fault: '200,000 overlapping policies (all select the same functions)',
    injection: 'engine plan, 40,000 then 200,000 policies x 10 functions (bench/overlap.ts)',
    expected: 'linear: 5x the policies take about 5x the time (quadratic would be 25x)',
    run: async () => {
      const small = overlapMs(40_000);
      const large = overlapMs(200_000);
      const ratio = large / small;
      return {
        observed: `x${ratio.toFixed(1)} for x5 policies`,
        expected: ratio < 12,
        crashed: false,
        hung: false,
        lost: 0,
        duplicated: 0,
      };
    },
  },
  {
    fault: 'Owned scheduled actions left behind (selector narrowed)',
    injection: 'apply, then apply the policy with a tag no function has',
    expected: 'plan shows the deletes; apply removes every owned action',
    run: async () => {
      const emu = await startTestEmulator({
        functions: [
          {
            name: 'api-a',
            region: EU,
            tags: { tier: 'api' },
            reservedConcurrency: 50,
            aliases: [{ name: 'live', version: '1' }],
          },
        ],
      });
      try {
        const block = `    provisionedConcurrency:
      qualifier: live
      value: 1
      windows:
        - { name: day, start: "0 8 * * *", end: "0 18 * * *", value: 2 }
`;
        const wide = policyFile('pc.yaml', POLICY(block, '    regions: [eu-central-1]\n    tags: { tier: api }'));
        const args = ['--aws-endpoint', emu.url, '--regions', EU];
        const first = await cli(['apply', '-f', wide, ...args]);
        const before = emu.regionState(EU).scheduledActions.length;
        const narrow = policyFile('pc.yaml', POLICY(block, '    regions: [eu-central-1]\n    tags: { tier: none }'));
        const second = await cli(['apply', '-f', narrow, ...args]);
        const after = emu.regionState(EU).scheduledActions.length;
        const writes = await emu.writes();
        const ok = before === 2 && after === 0;
        return {
          observed: `owned actions ${before} -> ${after}`,
          expected: ok,
          crashed: crashedIn(first) || crashedIn(second),
          hung: false,
          lost: after,
          duplicated:
            writes.length - new Set(writes.map((w) => `${w.api} ${w.resourceId} ${JSON.stringify(w.params)}`)).size,
        };
      } finally {
        await emu.stop();
      }
    },
  },
];

export const FAULT_CASES: FaultCase[] = [...listingFaults, ...fieldFaults, ...writeFaults, ...inputFaults];

export type { Outcome };
