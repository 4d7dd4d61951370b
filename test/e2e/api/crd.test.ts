/**
 * The CRD and the CLI validator agree, proven against a real kube-apiserver: the generated CRD is applied with
 * kubectl, then the examples, the valid fixtures and every manifest of the invalid-policy corpus are applied with
 * `kubectl apply` (client-side apply, strict field validation: kubectl's defaults) and run through the CLI's
 * parser. Where they must agree (rejections and their field paths, defaults) they are compared; where they cannot
 * (rules CEL has no data for) the test names say why.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_FILE, CRD_NAME } from '../../../src/api/crd.ts';
import type { ValidationIssue } from '../../../src/api/errors.ts';
import { type ParsedPolicy, parsePolicies } from '../../../src/api/parse.ts';
import { cliOnlyIssues } from '../../../src/api/rules.ts';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { validatePolicy, validatePolicyStatus } from '../../../src/api/validate.ts';
import { type CorpusCase, corpusCases, corpusManifests, INVALID_DIR, VALID_DIR } from '../../fixtures/corpus.ts';
import { type CommandResult, type ControlPlane, REPO_ROOT, startControlPlane } from '../harness/index.ts';
import { mapConcurrent } from './concurrency.ts';
import { parsePrintedTable } from './printed-table.ts';
import { serverFieldErrors } from './server-errors.ts';

const CRD_PATH = join(REPO_ROOT, CRD_FILE);
const EXAMPLES_DIR = join(REPO_ROOT, 'examples', 'policies');
const API_PATH = '/apis/lambdapolicy.io/v1alpha1';
/** Corpus files are applied one by one (each error is captured), a few at a time: 2 shared cores. */
const CORPUS_CONCURRENCY = 4;

interface StoredPolicy {
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

const corpus = corpusCases();
/** A wrong apiVersion or kind never reaches this resource: kubectl finds no resource to send it to. */
const isNotRouted = (entry: CorpusCase) => !entry.apiServer && (entry.path === 'apiVersion' || entry.path === 'kind');
const rejectedByBoth = corpus.filter((entry) => entry.apiServer);
const serverBlind = corpus.filter((entry) => !entry.apiServer && !isNotRouted(entry));
const notRouted = corpus.filter(isNotRouted);

let cluster: ControlPlane;
let crdApplied: CommandResult;

beforeAll(async () => {
  cluster = await startControlPlane();
  crdApplied = await cluster.kubectl(['apply', '-f', CRD_PATH]);
  await cluster.waitCrdEstablished(CRD_NAME);
});

afterAll(async () => {
  await cluster?.stop();
});

describe('the generated CRD', () => {
  it('is created by kubectl apply and becomes Established with its names accepted', async () => {
    const crd = await cluster.kubectlJson<{ status: { conditions: { type: string; status: string }[] } }>([
      'get',
      'crd',
      CRD_NAME,
    ]);

    expect(crdApplied.stdout).toContain(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} created`);
    const statusOf = (type: string) => crd.status.conditions.find((condition) => condition.type === type)?.status;
    expect(statusOf('Established')).toBe('True');
    expect(statusOf('NamesAccepted')).toBe('True');
  });

  it('answers to the short name lp and the categories aws and lambda like to lambdapolicies', async () => {
    await createNamespaces(['names']);
    await cluster.apply(policyManifest('names', 'named', {}));

    const listed = await Promise.all(
      ['lambdapolicies', 'lp', 'aws', 'lambda'].map(
        async (resource) => (await cluster.kubectl(['get', resource, '-n', 'names', '-o', 'name'])).stdout,
      ),
    );

    expect(listed).toEqual(Array(4).fill('lambdapolicy.lambdapolicy.io/named\n'));
  });

  it('kubectl explain lambdapolicy.spec.settings prints the description of settings and of each of its fields', async () => {
    const settings = crdSettingsSchema();
    const fieldDescriptions = Object.entries(settings.properties).map(([field, schema]) => [field, schema.description]);

    const { stdout } = await cluster.kubectl(['explain', 'lambdapolicy.spec.settings']);

    // explain wraps long descriptions; compare with runs of whitespace collapsed.
    const explained = squash(stdout);
    expect(explained).toContain(squash(settings.description));
    expect(explained).toContain('Memory in MB, 128..10240.');
    for (const [field, description] of fieldDescriptions) {
      expect(explained, field).toContain(field);
      expect(explained, field).toContain(squash(description ?? ''));
    }
    expect(fieldDescriptions.map(([field]) => field)).toEqual(
      expect.arrayContaining([
        'memorySize',
        'timeout',
        'architecture',
        'reservedConcurrency',
        'provisionedConcurrency',
      ]),
    );
  });
});

describe.each([
  { folder: 'examples/policies', dir: EXAMPLES_DIR },
  { folder: 'test/fixtures/valid-policies', dir: VALID_DIR },
])('$folder', ({ dir }) => {
  let cli: ParsedPolicy[];
  let cliErrors: string[];
  let applied: CommandResult;
  let stored: Map<string, StoredPolicy>;

  beforeAll(async () => {
    const parsed = readdirSync(dir)
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => parsePolicies(readFileSync(join(dir, file), 'utf8'), file));
    cli = parsed.flatMap((result) => result.policies);
    cliErrors = parsed.flatMap((result) => result.errors.map((error) => error.message));
    await createNamespaces(cli.map(({ policy }) => policy.metadata.namespace ?? 'default'));
    // One apply for the whole folder; check: false so a refusal is reported by the tests, not by the hook.
    applied = await cluster.kubectl(['apply', '-f', dir], { check: false });
    // Read back now: a later suite may re-apply a policy of the same name (api-tier is in both folders).
    stored = await storedPolicies();
  });

  it('the CLI accepts every policy', () => {
    expect(cliErrors).toEqual([]);
    expect(cli.length).toBeGreaterThan(0);
  });

  it('one kubectl apply -f <folder> is accepted for every policy', () => {
    expect(applied.stderr).toBe('');
    expect(applied.exitCode).toBe(0);
    for (const { policy } of cli) {
      expect(applied.stdout).toMatch(
        new RegExp(
          `^lambdapolicy\\.lambdapolicy\\.io/${escapeRegExp(policy.metadata.name)} (created|configured)$`,
          'm',
        ),
      );
    }
  });

  it('the server stores exactly the spec the CLI validated, defaults included', () => {
    for (const { policy } of cli) {
      const key = `${policy.metadata.namespace}/${policy.metadata.name}`;

      expect(stored.get(key)?.spec, key).toEqual(policy.spec);
    }
  });
});

describe('defaults', () => {
  it('the server defaults mode Enforce, priority 0, suspend false, interval 5m and timezone UTC, as the CLI does', async () => {
    const manifest = policyManifest('defaults', 'bare', {
      provisionedConcurrency: {
        qualifier: 'live',
        value: 1,
        windows: [{ name: 'w', start: '0 8 * * *', end: '0 9 * * *', value: 2 }],
      },
    });
    await createNamespaces(['defaults']);
    const cli = validatePolicy(JSON.parse(manifest));

    await cluster.apply(manifest);
    const stored = await cluster.kubectlJson<StoredPolicy>(['get', 'lp', 'bare', '-n', 'defaults']);

    expect(stored.spec).toMatchObject({ mode: 'Enforce', priority: 0, suspend: false, interval: '5m' });
    expect(stored.spec).toMatchObject({ settings: { provisionedConcurrency: { windows: [{ timezone: 'UTC' }] } } });
    expect(cli.ok).toBe(true);
    expect(cli.ok && cli.value.spec).toEqual(stored.spec);
  });
});

describe('kubectl get lp -A', () => {
  it('shows MODE, MATCHED, DRIFTED, READY, COMPLIANT, REASON and AGE (-o wide: INTERVAL, LAST CHECK), filled from spec and status', async () => {
    await createNamespaces(['columns']);
    await cluster.apply(policyManifest('columns', 'with-status', { memorySize: 512 }, { mode: 'Audit' }));
    await cluster.apply(policyManifest('columns', 'without-status', { timeout: 30 }));
    const status: LambdaPolicyStatus = {
      observedGeneration: 1,
      summary: { matched: 7, compliant: 4, drifted: 3, remediated: 0, overridden: 0, failed: 0 },
      lastCheckTime: '2026-01-01T00:00:00Z',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Checked',
          message: 'checked at generation 1',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
        {
          type: 'Compliant',
          status: 'False',
          reason: 'Drifted',
          message: '3 of 7 matched functions drifted',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    expect(validatePolicyStatus(status).issues).toEqual([]);

    await cluster.kubectl([
      'patch',
      'lp',
      'with-status',
      '-n',
      'columns',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    const table = parsePrintedTable((await cluster.kubectl(['get', 'lp', '-A'])).stdout);
    const wide = (await cluster.kubectl(['get', 'lp', '-n', 'columns', '-o', 'wide'])).stdout.split('\n');

    expect(table.header).toEqual([
      'NAMESPACE',
      'NAME',
      'MODE',
      'MATCHED',
      'DRIFTED',
      'READY',
      'COMPLIANT',
      'REASON',
      'AGE',
    ]);
    const row = (name: string) => table.rows.find((entry) => entry.NAMESPACE === 'columns' && entry.NAME === name);
    expect(row('with-status')).toMatchObject({
      MODE: 'Audit',
      MATCHED: '7',
      DRIFTED: '3',
      READY: 'True',
      COMPLIANT: 'False',
      REASON: 'Drifted',
    });
    expect(row('with-status')?.AGE).toMatch(/^\d+[smhd]/);
    expect(row('without-status')).toMatchObject({
      MODE: 'Enforce',
      MATCHED: '',
      DRIFTED: '',
      READY: '',
      COMPLIANT: '',
    });
    // Column names with a space, as kubectl's own wide columns have (NOMINATED NODE).
    expect(wide[0]).toMatch(/\sAGE\s+INTERVAL\s+LAST CHECK$/);
    expect(wide.find((line) => line.startsWith('with-status '))).toMatch(/\s5m\s+\d+[smhdy]\S*$/);
  });

  it('conditions follow metav1.Condition: a condition without a reason, or with one that is not CamelCase, is refused', async () => {
    const condition = { type: 'Ready', status: 'True', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const patch = (reason: string | undefined) =>
      cluster.kubectl(
        [
          'patch',
          'lp',
          'with-status',
          '-n',
          'columns',
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { conditions: [{ ...condition, ...(reason === undefined ? {} : { reason }) }] } }),
        ],
        { check: false },
      );

    const missing = await patch(undefined);
    const spaced = await patch('not camel case');
    const good = await patch('Checked');

    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/reason: Required value/);
    expect(spaced.exitCode).not.toBe(0);
    expect(spaced.stderr).toMatch(/reason: Invalid value/);
    expect(good.exitCode, good.stderr).toBe(0);
  });
});

describe('the invalid-policy corpus', () => {
  const namespace = 'corpus';
  let outcomes: Map<string, CommandResult>;

  beforeAll(async () => {
    await createNamespaces([namespace]);
    const results = await mapConcurrent(corpus, CORPUS_CONCURRENCY, (entry) => submit(entry.file, namespace));
    outcomes = new Map(corpus.map((entry, index) => [entry.file, results[index] as CommandResult]));
  });

  it('index.yaml lists every manifest of the folder', () => {
    const manifests = corpusManifests();

    expect(corpus.map((entry) => entry.file).sort()).toEqual(manifests.sort());
    expect(rejectedByBoth.length + serverBlind.length + notRouted.length).toBe(corpus.length);
  });

  it.each(rejectedByBoth)('$file: the API server and the CLI both reject it, naming $path', (entry) => {
    const outcome = outcomes.get(entry.file);
    const expectedServerPath = entry.apiServerPath ?? entry.path;

    const server = serverFieldErrors(`${outcome?.stdout}${outcome?.stderr}`);
    const cli = cliIssues(entry.file);

    expect(outcome?.exitCode, outcome?.stdout).not.toBe(0);
    expect(server.map((error) => error.path)).toContain(expectedServerPath);
    const named = server.filter((error) => error.path === expectedServerPath);
    expect(named.some((error) => error.detail.includes(entry.apiServerMessage ?? entry.message))).toBe(true);
    expect(cli.map((issue) => issue.path)).toEqual([entry.path]);
    expect(cli[0]?.message).toContain(entry.message);
    expect(cli[0]?.path).toBe(expectedServerPath);
  });

  it.each(serverBlind)('$file: the API server stores it ($note); only the CLI rejects $path', async (entry) => {
    const outcome = outcomes.get(entry.file);
    const name = manifestName(entry.file);

    const stored = await cluster.kubectlJson<StoredPolicy>(['get', 'lp', name, '-n', namespace]);
    const cli = cliIssues(entry.file);

    expect(entry.source).toBe('cli');
    expect(outcome?.exitCode, outcome?.stderr).toBe(0);
    expect(outcome?.stdout).toContain(`lambdapolicy.lambdapolicy.io/${name} created`);
    expect(cli.map((issue) => issue.path)).toEqual([entry.path]);
    expect(cli[0]?.message).toContain(entry.message);
    // What the controller will report in status for the object as the server stored it.
    expect(cliOnlyIssues(stored.spec).map((issue) => issue.path)).toEqual([entry.path]);
  });

  it.each(notRouted)(
    '$file: kubectl finds no resource for its $path, so no field error; the CLI names $path',
    (entry) => {
      const outcome = outcomes.get(entry.file);

      const cli = cliIssues(entry.file);

      expect(outcome?.exitCode).not.toBe(0);
      expect(outcome?.stderr).toContain('no matches for kind');
      expect(cli.map((issue) => issue.path)).toEqual([entry.path]);
      expect(cli[0]?.message).toContain(entry.message);
    },
  );

  it('44-name-missing.yaml: kubectl apply refuses a nameless manifest itself, so the server is asked with a POST', async () => {
    const outcome = await cluster.kubectl(['apply', '-n', namespace, '-f', join(INVALID_DIR, '44-name-missing.yaml')], {
      check: false,
    });

    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.stderr).toContain('resource name may not be empty');
  });

  it('the server stored exactly the manifests it cannot judge', async () => {
    const { stdout } = await cluster.kubectl(['get', 'lp', '-n', namespace, '-o', 'name']);

    const storedNames = stdout.split('\n').filter((line) => line !== '');

    expect(storedNames.sort()).toEqual(
      serverBlind.map((entry) => `lambdapolicy.lambdapolicy.io/${manifestName(entry.file)}`).sort(),
    );
  });
});

/**
 * Sends one corpus manifest the way a user would: `kubectl apply` (client-side, strict field validation). kubectl
 * cannot apply an object without a name (it must look the object up first), so that one is POSTed as JSON with
 * fieldValidation=Strict, which is what apply's create would send.
 */
function submit(file: string, namespace: string): Promise<CommandResult> {
  const text = readFileSync(join(INVALID_DIR, file), 'utf8');
  const manifest = parse(text) as { metadata?: { name?: string } };
  if (manifest.metadata?.name === undefined) {
    const url = `${API_PATH}/namespaces/${namespace}/lambdapolicies?fieldValidation=Strict`;
    return cluster.kubectl(['create', '--raw', url, '-f', '-'], { input: JSON.stringify(manifest), check: false });
  }
  return cluster.kubectl(['apply', '-n', namespace, '-f', join(INVALID_DIR, file)], { check: false });
}

/** The CLI's verdict on a corpus file: the issues of its (only) document. */
function cliIssues(file: string): readonly ValidationIssue[] {
  const result = parsePolicies(readFileSync(join(INVALID_DIR, file), 'utf8'), file);
  expect(result.policies).toEqual([]);
  expect(result.errors).toHaveLength(1);
  return result.errors[0]?.issues ?? [];
}

function manifestName(file: string): string {
  const manifest = parse(readFileSync(join(INVALID_DIR, file), 'utf8')) as { metadata: { name: string } };
  return manifest.metadata.name;
}

async function createNamespaces(names: readonly string[]): Promise<void> {
  const items = [...new Set(names)].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  await cluster.apply(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
}

async function storedPolicies(): Promise<Map<string, StoredPolicy>> {
  const list = await cluster.kubectlJson<{ items: StoredPolicy[] }>(['get', 'lp', '-A']);
  return new Map(list.items.map((item) => [`${item.metadata.namespace}/${item.metadata.name}`, item]));
}

/** A policy selecting every function, with the given settings and spec fields; JSON is valid YAML for kubectl. */
function policyManifest(
  namespace: string,
  name: string,
  settings: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace },
    spec: { ...spec, selector: { functionNames: ['*'] }, settings },
  });
}

interface DescribedSchema {
  description: string;
  properties: Record<string, { description?: string }>;
}

/** spec.settings of the CRD file as applied (not rebuilt from the schema: the file is what users install). */
function crdSettingsSchema(): DescribedSchema {
  const crd = parse(readFileSync(CRD_PATH, 'utf8')) as {
    spec: {
      versions: {
        schema: { openAPIV3Schema: { properties: { spec: { properties: { settings: DescribedSchema } } } } };
      }[];
    };
  };
  const settings = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.settings;
  if (settings === undefined) throw new Error(`${CRD_FILE} has no version with spec.settings`);
  return settings;
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
