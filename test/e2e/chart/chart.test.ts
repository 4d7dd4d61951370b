/**
 * The Helm chart against the pinned helm and a real kube-apiserver: it lints, its schema refuses unknown values,
 * it renders what the values say, the packaged chart (`helm package`) installs (every object accepted by the API
 * server; no pod runs here: this cluster has no kubelet — test/e2e/install runs the pods), installs the generated
 * CRD, prints NOTES that work from the package, and its ServiceAccount gets exactly the grants in
 * files/rbac-rules.yaml: reading and status-patching policies, Events, its Lease, and never a write of a policy's
 * spec.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ACCOUNT_CRD_FILE, CRD_FILE, CRD_NAME } from '../../../src/api/crd.ts';
import { ORGANIZATION_CRD_FILE } from '../../../src/api/organization-crd.ts';
import { DEFAULT_LEASE_NAME } from '../../../src/controller/leader.ts';
import { type ControlPlane, runCommand, startControlPlane } from '../harness/index.ts';
import { CHART_DIR, type KubeObject, renderChart, renderChartYaml } from './support/render.ts';

const RELEASE = 'lpc';
const NS = 'lpc-system';
/** Full name for release `lpc`: `<release>-<chart>`. */
const FULLNAME = 'lpc-lambda-policy-controller';
const SA = `system:serviceaccount:${NS}:${FULLNAME}`;
/** The release's own Lease (`<fullname>-leader`): two releases in one namespace never share one. */
const LEASE = `${FULLNAME}-leader`;
const CHART_VERSION = '0.1.0';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startControlPlane();
});

afterAll(async () => {
  await cluster?.stop();
});

interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: unknown;
  securityContext: Record<string, unknown>;
  image: string;
}

type PodSpec = Record<string, unknown> & { containers: Container[] };

function find(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in ${objects.map((o) => o.kind).join(', ')}`);
  return found;
}

function podSpec(objects: KubeObject[]): PodSpec {
  return (find(objects, 'Deployment') as KubeObject & { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

function controllerContainer(objects: KubeObject[]): Container {
  const [container] = podSpec(objects).containers;
  if (!container) throw new Error('the Deployment has no container');
  return container;
}

const helmTemplate = (sets: string[]) =>
  cluster.helm(['template', RELEASE, CHART_DIR, ...sets.flatMap((s) => ['--set', s])], { check: false });

const rbacRules = parse(readFileSync(join(CHART_DIR, 'files', 'rbac-rules.yaml'), 'utf8')) as {
  controller: unknown[];
  tenancy: unknown[];
  leaderElection: unknown[];
};

describe('helm lint', () => {
  it.each([
    ['defaults', []],
    ['two replicas, one namespace, an endpoint', ['replicaCount=2', 'watchNamespace=team-a', 'aws.endpoint=http://x']],
    ['ServiceMonitor and IRSA', ['metrics.serviceMonitor.enabled=true', 'serviceAccount.annotations.a=b']],
    [
      'an existing ServiceAccount, no RBAC, no PDB, no test pod',
      [
        'serviceAccount.create=false',
        'serviceAccount.name=lpc',
        'rbac.create=false',
        'podDisruptionBudget.enabled=false',
        'test.enabled=false',
      ],
    ],
  ])('passes --strict with %s', async (_name, sets) => {
    const result = await cluster.helm(['lint', '--strict', CHART_DIR, ...sets.flatMap((s) => ['--set', s])], {
      check: false,
    });

    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  });
});

describe('helm template', () => {
  it('renders the controller, its ServiceAccount, RBAC, metrics Service, PDB and test pod, no ServiceMonitor by default', async () => {
    // Act
    const objects = await renderChart(cluster, { release: RELEASE, namespace: NS });

    // Assert
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        `ClusterRole/${FULLNAME}`,
        `ClusterRoleBinding/${FULLNAME}`,
        `ClusterRole/${FULLNAME}-tenancy`,
        `ClusterRoleBinding/${FULLNAME}-tenancy`,
        `Deployment/${FULLNAME}`,
        `PodDisruptionBudget/${FULLNAME}`,
        `Pod/${FULLNAME}-doctor`,
        `Role/${FULLNAME}-leader-election`,
        `RoleBinding/${FULLNAME}-leader-election`,
        `Service/${FULLNAME}-metrics`,
        `ServiceAccount/${FULLNAME}`,
      ].sort(),
    );
  });

  it('with an existing ServiceAccount and rbac.create=false, renders no ServiceAccount and no RBAC, and uses it', async () => {
    // Act
    const objects = await renderChart(cluster, {
      release: RELEASE,
      namespace: NS,
      set: { 'serviceAccount.create': 'false', 'serviceAccount.name': 'platform-lpc', 'rbac.create': 'false' },
    });

    // Assert
    expect(objects.map((o) => o.kind).sort()).toEqual(['Deployment', 'Pod', 'PodDisruptionBudget', 'Service']);
    expect(podSpec(objects).serviceAccountName).toBe('platform-lpc');
    expect(
      (find(objects, 'Pod') as KubeObject & { spec: { serviceAccountName: string } }).spec.serviceAccountName,
    ).toBe('platform-lpc');
  });

  it('refuses serviceAccount.create=false without a name instead of running as the default ServiceAccount', async () => {
    const result = await helmTemplate(['serviceAccount.create=false']);

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('set serviceAccount.name to an existing ServiceAccount');
  });

  it.each([
    ['an unknown key', ['replicas=2'], "additional properties 'replicas' not allowed"],
    ['a misspelt nested key', ['image.tags=v1'], "additional properties 'tags' not allowed"],
    ['the removed leader-election switch', ['leaderElection.enabled=false'], "'leaderElection' not allowed"],
    [
      'an unknown pull policy',
      ['image.pullPolicy=Sometimes'],
      "value must be one of 'Always', 'IfNotPresent', 'Never'",
    ],
    ['a digest that is not one', ['image.digest=latest'], '/image/digest'],
  ])('refuses %s (values.schema.json)', async (_name, sets, message) => {
    const result = await helmTemplate(sets);

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it.each([
    ['the appVersion by default', {}, 'lambda-policy-controller:0.1.0'],
    [
      'a registry and a tag',
      { 'image.registry': 'registry.local:5000', 'image.tag': 'dev' },
      'registry.local:5000/lambda-policy-controller:dev',
    ],
    [
      'a digest, which wins over the tag',
      { 'image.repository': 'team/lpc', 'image.tag': 'dev', 'image.digest': `sha256:${'ab'.repeat(32)}` },
      `team/lpc@sha256:${'ab'.repeat(32)}`,
    ],
  ])('pulls the image by %s', async (_name, set, image) => {
    // Act
    const objects = await renderChart(cluster, { release: RELEASE, namespace: NS, set });

    // Assert
    expect(controllerContainer(objects).image).toBe(image);
    expect((find(objects, 'Pod') as KubeObject & { spec: { containers: Container[] } }).spec.containers[0]?.image).toBe(
      image,
    );
  });

  it('takes every RBAC rule from files/rbac-rules.yaml, unchanged', async () => {
    // Act
    const objects = await renderChart(cluster, { release: RELEASE, namespace: NS });

    // Assert
    expect(find(objects, 'ClusterRole', FULLNAME).rules).toEqual(rbacRules.controller);
    expect(find(objects, 'ClusterRole', `${FULLNAME}-tenancy`).rules).toEqual(rbacRules.tenancy);
    // the Lease rule names the release's Lease in place of the file's default name
    expect(find(objects, 'Role').rules).toEqual(
      JSON.parse(JSON.stringify(rbacRules.leaderElection).replaceAll(`"${DEFAULT_LEASE_NAME}"`, `"${LEASE}"`)),
    );
    expect(find(objects, 'Role').metadata.namespace).toBe(NS);
    expect(JSON.stringify(rbacRules.leaderElection)).toContain(DEFAULT_LEASE_NAME);
  });

  it.each<{ name: string; set: Record<string, string>; args: string[]; region: string }>([
    {
      name: 'defaults',
      set: {},
      args: [
        'run',
        '--regions=us-east-1',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--max-changes-percent=25',
        '--log-level=info',
        '--log-format=json',
      ],
      region: 'us-east-1',
    },
    {
      name: 'two replicas, two regions',
      set: { replicaCount: '2', 'aws.regions': '{eu-central-1,us-east-1}' },
      args: [
        'run',
        '--regions=eu-central-1,us-east-1',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--max-changes-percent=25',
        '--log-level=info',
        '--log-format=json',
      ],
      region: 'eu-central-1',
    },
    {
      name: 'an endpoint, one namespace, an explicit region, extra arguments',
      set: {
        'aws.endpoint': 'http://emulator:4566',
        'aws.region': 'eu-west-1',
        watchNamespace: 'team-a',
        extraArgs: '{--workers,8}',
      },
      args: [
        'run',
        '--regions=us-east-1',
        '--aws-endpoint=http://emulator:4566',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--namespace=team-a',
        '--max-changes-percent=25',
        '--log-level=info',
        '--log-format=json',
        '--workers',
        '8',
      ],
      region: 'eu-west-1',
    },
    {
      name: 'safety rails: dry run, a stricter guard, IaC owner tags; log level and format',
      set: {
        dryRun: 'true',
        'safety.maxChangesPercent': '10',
        'iac.ownerTags': '{ManagedBy=terraform,pulumi:project}',
        logLevel: 'debug',
        logFormat: 'text',
      },
      args: [
        'run',
        '--regions=us-east-1',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--max-changes-percent=10',
        '--dry-run',
        '--iac-owner-tags=ManagedBy=terraform,pulumi:project',
        '--log-level=debug',
        '--log-format=text',
      ],
      region: 'us-east-1',
    },
    {
      name: 'tenancy: the home account for one team, one shard of the AwsAccounts',
      set: {
        'homeAccount.policyNamespaces.matchLabels.team': 'platform',
        accountSelector: 'shard=a',
        maxWorkersPerAccount: '3',
      },
      args: [
        'run',
        '--regions=us-east-1',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--max-changes-percent=25',
        '--log-level=info',
        '--log-format=json',
        '--home-account-namespaces={"matchLabels":{"team":"platform"}}',
        '--account-selector=shard=a',
        '--max-workers-per-account=3',
      ],
      region: 'us-east-1',
    },
    {
      name: 'tenancy: no namespace reaches the home account',
      set: { 'homeAccount.policyNamespaces': 'null' },
      args: [
        'run',
        '--regions=us-east-1',
        '--metrics-addr=:8080',
        '--health-addr=:8081',
        '--leader-elect',
        `--leader-election-namespace=${NS}`,
        `--leader-election-id=${LEASE}`,
        '--max-changes-percent=25',
        '--log-level=info',
        '--log-format=json',
        '--home-account-namespaces=null',
      ],
      region: 'us-east-1',
    },
  ])('builds the run arguments from values: $name', async ({ set, args, region }) => {
    // Act
    const container = controllerContainer(await renderChart(cluster, { release: RELEASE, namespace: NS, set }));

    // Assert
    expect(container.args).toEqual(args);
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'AWS_REGION', value: region },
      ]),
    );
  });

  it('runs the controller hardened, probed and sized', async () => {
    // Act
    const objects = await renderChart(cluster, { release: RELEASE, namespace: NS });
    const container = controllerContainer(objects);
    const pod = podSpec(objects);

    // Assert
    expect(container.image).toBe('lambda-policy-controller:0.1.0');
    expect(container.ports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'metrics', containerPort: 8080 }),
        expect.objectContaining({ name: 'health', containerPort: 8081 }),
      ]),
    );
    expect(container.livenessProbe).toEqual({
      httpGet: { path: '/healthz', port: 'health' },
      initialDelaySeconds: 10,
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'health' }, timeoutSeconds: 5 });
    // Sized for 10,000 functions (peak RSS ~200 MiB), no CPU limit.
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.serviceAccountName).toBe(FULLNAME);
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.topologySpreadConstraints).toBeUndefined();
  });

  it('rolls updates with a surge pod and budgets disruptions so a one-replica drain is never blocked', async () => {
    // Act
    const objects = await renderChart(cluster, { release: RELEASE, namespace: NS });
    const withMin = await renderChart(cluster, {
      release: RELEASE,
      namespace: NS,
      set: { replicaCount: '3', 'podDisruptionBudget.minAvailable': '2' },
    });

    // Assert
    expect((find(objects, 'Deployment') as KubeObject & { spec: { strategy: unknown } }).spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(find(objects, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'lambda-policy-controller', 'app.kubernetes.io/instance': RELEASE },
      },
    });
    expect(find(withMin, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 2 });
    expect(find(withMin, 'PodDisruptionBudget').spec).not.toHaveProperty('maxUnavailable');
  });

  it('spreads pods by topology (selector filled in), with a priority class and NODE_OPTIONS', async () => {
    // Act
    const objects = await renderChart(cluster, {
      release: RELEASE,
      namespace: NS,
      set: {
        'topologySpreadConstraints[0].maxSkew': '1',
        'topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
        'topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
        'topologySpreadConstraints[1].maxSkew': '1',
        'topologySpreadConstraints[1].topologyKey': 'kubernetes.io/hostname',
        'topologySpreadConstraints[1].whenUnsatisfiable': 'DoNotSchedule',
        'topologySpreadConstraints[1].labelSelector.matchLabels.custom': 'yes',
        priorityClassName: 'system-cluster-critical',
        nodeOptions: '--optimize-for-size',
      },
    });
    const pod = podSpec(objects);

    // Assert
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'lambda-policy-controller', 'app.kubernetes.io/instance': RELEASE },
        },
      },
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { custom: 'yes' } },
      },
    ]);
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(controllerContainer(objects).env).toEqual(
      expect.arrayContaining([{ name: 'NODE_OPTIONS', value: '--optimize-for-size' }]),
    );
  });

  it('renders the helm test pod: doctor with the controller ServiceAccount, regions and endpoint, hardened', async () => {
    // Act
    const objects = await renderChart(cluster, {
      release: RELEASE,
      namespace: NS,
      set: {
        'aws.regions': '{eu-central-1,us-east-1}',
        'aws.endpoint': 'http://emulator:4566',
        'test.extraArgs': '{--min-headroom,50}',
      },
    });
    const pod = find(objects, 'Pod') as KubeObject & { spec: PodSpec & { restartPolicy: string } };
    const [container] = pod.spec.containers;

    // Assert
    expect(pod.metadata.annotations).toEqual({
      'helm.sh/hook': 'test',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.serviceAccountName).toBe(FULLNAME);
    expect(container?.args).toEqual([
      'doctor',
      '--regions=eu-central-1,us-east-1',
      '--aws-endpoint=http://emulator:4566',
      '--min-headroom',
      '50',
    ]);
    expect(container?.env).toEqual(expect.arrayContaining([{ name: 'AWS_REGION', value: 'eu-central-1' }]));
    expect(container?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 65532 });
    expect(
      (await renderChart(cluster, { release: RELEASE, namespace: NS, set: { 'test.enabled': 'false' } })).some(
        (o) => o.kind === 'Pod',
      ),
    ).toBe(false);
  });

  it('annotates the ServiceAccount for IRSA, binds the rules in watchNamespace only, and adds a ServiceMonitor', async () => {
    // Act
    const objects = await renderChart(cluster, {
      release: RELEASE,
      namespace: NS,
      set: {
        'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn': 'arn:aws:iam::123456789012:role/lpc',
        watchNamespace: 'team-a',
        'metrics.serviceMonitor.enabled': 'true',
      },
    });

    // Assert
    expect(find(objects, 'ServiceAccount').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/lpc',
    });
    // Only tenancy (cluster-scoped AwsAccounts and Namespaces) stays bound cluster-wide.
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name)).toEqual([
      `${FULLNAME}-tenancy`,
    ]);
    expect(find(objects, 'RoleBinding', FULLNAME)).toMatchObject({
      metadata: { namespace: 'team-a' },
      roleRef: { kind: 'ClusterRole', name: FULLNAME },
      subjects: [{ kind: 'ServiceAccount', name: FULLNAME, namespace: NS }],
    });
    expect(find(objects, 'ServiceMonitor')).toMatchObject({
      spec: { endpoints: [{ port: 'metrics', path: '/metrics' }] },
    });
  });

  it('refuses to render without a region', async () => {
    const result = await cluster.helm(['template', RELEASE, CHART_DIR, '--set', 'aws.regions=null'], { check: false });

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('set aws.regions');
  });

  it('packages with the generated CRD and the rules file inside', async () => {
    // Arrange
    const out = mkdtempSync(join(tmpdir(), 'lpc-chart-'));
    try {
      // Act
      await cluster.helm(['package', CHART_DIR, '--destination', out]);
      const tgz = join(out, `lambda-policy-controller-${CHART_VERSION}.tgz`);
      const listing = await runCommand('tar', ['-tzf', tgz]);
      const crds = await cluster.helm(['show', 'crds', tgz]);

      // Assert
      expect(listing.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          `lambda-policy-controller/${CRD_FILE}`,
          `lambda-policy-controller/${ACCOUNT_CRD_FILE}`,
          'lambda-policy-controller/files/rbac-rules.yaml',
          'lambda-policy-controller/argocd/health.lua',
          'lambda-policy-controller/values.schema.json',
          'lambda-policy-controller/templates/tests/doctor-pod.yaml',
        ]),
      );
      // `helm show crds`, which NOTES.txt tells users to apply on upgrades, prints the generated CRDs.
      const shown = parseAllDocuments(crds.stdout).map((d) => d.toJS() as unknown);
      const generated = [CRD_FILE, ACCOUNT_CRD_FILE, ORGANIZATION_CRD_FILE].map(
        (f) => parse(readFileSync(join(CHART_DIR, f), 'utf8')) as unknown,
      );
      expect(shown).toHaveLength(generated.length);
      expect(shown).toEqual(expect.arrayContaining(generated));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('helm install of the packaged chart on a real API server', () => {
  let packageDir: string;
  let packaged: string;
  let notes: string;

  beforeAll(async () => {
    packageDir = mkdtempSync(join(tmpdir(), 'lpc-chart-'));
    await cluster.helm(['package', CHART_DIR, '--destination', packageDir]);
    packaged = join(packageDir, `lambda-policy-controller-${CHART_VERSION}.tgz`);
    const installed = await cluster.helm(['install', RELEASE, packaged, '--namespace', NS, '--create-namespace']);
    notes = installed.stdout;
  });

  afterAll(() => {
    if (packageDir) rmSync(packageDir, { recursive: true, force: true });
  });

  it('prints NOTES that work without the repository: the CRD upgrade comes from `helm show crds`', () => {
    expect(notes).toContain(
      '  helm show crds CHART --version NEW_VERSION | kubectl apply --server-side --force-conflicts -f -\n' +
        `  helm upgrade ${RELEASE} CHART --version NEW_VERSION -n ${NS} --reuse-values\n`,
    );
    expect(notes).toContain(`helm test ${RELEASE} -n ${NS} --logs`);
    expect(notes).toContain(`Lease ${LEASE}`);
    expect(notes).not.toContain('crds/lambdapolicies');
  });

  it('installs the CRD from crds/ and it becomes Established', async () => {
    await cluster.waitCrdEstablished(CRD_NAME);
    const waited = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CRD_NAME}`]);

    expect(waited.exitCode).toBe(0);
  });

  it('renders a helm test pod the API server accepts (server-side dry run: no kubelet runs it here)', async () => {
    // Arrange
    const pod = await renderChartYaml(cluster, {
      release: RELEASE,
      namespace: NS,
      chart: packaged,
      showOnly: ['templates/tests/doctor-pod.yaml'],
    });

    // Act
    const result = await cluster.kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], {
      input: pod,
      check: false,
    });

    // Assert
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(`pod/${FULLNAME}-doctor`);
  });

  it('creates every object the chart renders', async () => {
    // Arrange: the test pod is a hook of `helm test`, not part of the install
    const rendered = await renderChart(cluster, { release: RELEASE, namespace: NS, chart: packaged, skipTests: true });

    // Act
    const missing: string[] = [];
    for (const object of rendered) {
      const namespaced = object.metadata.namespace ? ['-n', object.metadata.namespace] : [];
      // kind.group for grouped APIs; the core group (apiVersion v1) has no group part.
      const group = object.apiVersion.includes('/') ? `.${object.apiVersion.split('/')[0]}` : '';
      const got = await cluster.kubectl(['get', `${object.kind}${group}`, object.metadata.name, ...namespaced], {
        check: false,
      });
      if (got.exitCode !== 0) missing.push(`${object.kind}/${object.metadata.name}: ${got.stderr}`);
    }
    const status = await cluster.helm(['status', RELEASE, '-n', NS, '-o', 'json']);

    // Assert
    expect(missing).toEqual([]);
    expect((JSON.parse(status.stdout) as { info: { status: string } }).info.status).toBe('deployed');
  });

  const canI = async (verb: string, resource: string, namespace: string | undefined, extra: string[] = []) => {
    const scope = namespace === undefined ? ['--all-namespaces'] : ['-n', namespace];
    const result = await cluster.kubectl(['auth', 'can-i', verb, resource, ...scope, ...extra, `--as=${SA}`], {
      check: false,
    });
    return result.stdout.trim();
  };

  const tenant = 'tenant-a';
  it.each([
    ['get', 'lambdapolicies.lambdapolicy.io', tenant, [], 'yes'],
    ['list', 'lambdapolicies.lambdapolicy.io', undefined, [], 'yes'],
    ['watch', 'lambdapolicies.lambdapolicy.io', undefined, [], 'yes'],
    ['patch', 'lambdapolicies.lambdapolicy.io', tenant, ['--subresource=status'], 'yes'],
    ['update', 'lambdapolicies.lambdapolicy.io', tenant, ['--subresource=finalizers'], 'yes'],
    ['create', 'events.events.k8s.io', tenant, [], 'yes'],
    ['get', `leases.coordination.k8s.io/${LEASE}`, NS, [], 'yes'],
    ['update', `leases.coordination.k8s.io/${LEASE}`, NS, [], 'yes'],
    ['update', `leases.coordination.k8s.io/${DEFAULT_LEASE_NAME}`, NS, [], 'no'],
    ['create', 'leases.coordination.k8s.io', NS, [], 'yes'],
    ['update', 'lambdapolicies.lambdapolicy.io', tenant, [], 'no'],
    ['create', 'lambdapolicies.lambdapolicy.io', tenant, [], 'no'],
    ['delete', 'lambdapolicies.lambdapolicy.io', tenant, [], 'no'],
    ['update', 'lambdapolicies.lambdapolicy.io', tenant, ['--subresource=status'], 'no'],
    ['update', 'leases.coordination.k8s.io/other-lease', NS, [], 'no'],
    ['create', 'leases.coordination.k8s.io', tenant, [], 'no'],
    ['get', 'secrets', NS, [], 'no'],
    ['list', 'configmaps', undefined, [], 'no'],
  ] as const)('the chart ServiceAccount: can-i %s %s in %s %j -> %s', async (verb, resource, ns, extra, expected) => {
    expect(await canI(verb, resource, ns, [...extra])).toBe(expected);
  });

  it('with watchNamespace, grants the policy rules in that namespace only', async () => {
    // Arrange: a second release, in its own namespace, watching team-a (the CRD exists: helm leaves it alone)
    const release = 'scoped';
    const ns = 'scoped-system';
    const sa = `system:serviceaccount:${ns}:${release}-lambda-policy-controller`;
    await cluster.kubectl(['create', 'namespace', 'team-a']);

    // Act
    await cluster.helm([
      'install',
      release,
      CHART_DIR,
      '-n',
      ns,
      '--create-namespace',
      '--set',
      'watchNamespace=team-a',
    ]);
    const can = async (...args: string[]) =>
      (await cluster.kubectl(['auth', 'can-i', ...args, `--as=${sa}`], { check: false })).stdout.trim();

    // Assert
    expect(await can('watch', 'lambdapolicies.lambdapolicy.io', '-n', 'team-a')).toBe('yes');
    expect(await can('patch', 'lambdapolicies.lambdapolicy.io', '--subresource=status', '-n', 'team-a')).toBe('yes');
    expect(await can('create', 'events.events.k8s.io', '-n', 'team-a')).toBe('yes');
    expect(await can('watch', 'lambdapolicies.lambdapolicy.io', '-n', 'team-b')).toBe('no');
    expect(await can('list', 'lambdapolicies.lambdapolicy.io', '--all-namespaces')).toBe('no');
    expect(await can('update', `leases.coordination.k8s.io/${release}-lambda-policy-controller-leader`, '-n', ns)).toBe(
      'yes',
    );
    expect(await can('update', `leases.coordination.k8s.io/${LEASE}`, '-n', ns)).toBe('no');
  });

  it('upgrades as docs/install.md says: the newer CRD from `helm show crds`, then `helm upgrade` with new values', async () => {
    // Arrange: a newer package whose CRD changed (a description in the schema) and whose values differ
    const newer = mkdtempSync(join(tmpdir(), 'lpc-chart-newer-'));
    try {
      const chartCopy = join(newer, 'lambda-policy-controller');
      cpSync(CHART_DIR, chartCopy, { recursive: true });
      const chartYaml = join(chartCopy, 'Chart.yaml');
      writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(`version: ${CHART_VERSION}`, 'version: 0.1.1'));
      const crdPath = join(chartCopy, CRD_FILE);
      const crd = parse(readFileSync(crdPath, 'utf8')) as {
        spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] };
      };
      const [version] = crd.spec.versions;
      if (!version) throw new Error('the CRD has no version');
      version.schema.openAPIV3Schema.description = 'upgraded by the chart e2e test';
      writeFileSync(crdPath, stringify(crd));
      await cluster.helm(['package', chartCopy, '--destination', newer]);
      const tgz = join(newer, 'lambda-policy-controller-0.1.1.tgz');

      // Act: the two commands of docs/install.md "Upgrading"
      const crds = await cluster.helm(['show', 'crds', tgz]);
      const applied = await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
        input: crds.stdout,
      });
      await cluster.helm(['upgrade', RELEASE, tgz, '-n', NS, '--reuse-values', '--set', 'replicaCount=2']);

      // Assert: the CRD changed on the server, the release is at the new chart with the new value
      expect(applied.exitCode).toBe(0);
      const live = await cluster.kubectlJson<typeof crd>(['get', 'crd', CRD_NAME]);
      expect(live.spec.versions[0]?.schema.openAPIV3Schema.description).toBe('upgraded by the chart e2e test');
      const status = JSON.parse((await cluster.helm(['status', RELEASE, '-n', NS, '-o', 'json'])).stdout) as {
        version: number;
        chart?: { metadata: { version: string } };
        info: { status: string };
      };
      expect(status.info.status).toBe('deployed');
      const deployment = await cluster.kubectlJson<{
        spec: { replicas: number };
        metadata: { labels: Record<string, string> };
      }>(['get', 'deployment', FULLNAME, '-n', NS]);
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.metadata.labels['helm.sh/chart']).toBe('lambda-policy-controller-0.1.1');
    } finally {
      rmSync(newer, { recursive: true, force: true });
    }
  });
});
