/**
 * `lambda-policy-controller run`: the controller in a cluster. Watches LambdaPolicy, reconciles one key per region,
 * writes status/events/finalizers; optional leader election; /healthz, /readyz and /metrics; pino logs (JSON or text, --log-format);
 * graceful shutdown on SIGTERM (leadership released for a fast hand-over).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { CONTROLLER_VERSION } from '../aws/clients.ts';
import { callerIdentity, createAws } from '../aws/index.ts';
import { parseHomeNamespaces, parseLabelSelector } from '../controller/accounts.ts';
import { controllerReadiness, HealthServer } from '../controller/health.ts';
import { DEFAULT_LEASE_NAME, defaultIdentity, LeaderElector } from '../controller/leader.ts';
import { Manager } from '../controller/manager.ts';
import { ControllerMetrics } from '../controller/metrics.ts';
import { organizationReconciler } from '../controller/organizations.ts';
import { registerDryRunGauge } from '../controller/safety.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import { DEFAULT_MAX_CHANGES_PERCENT } from '../engine/rollout.ts';
import { AccountStatusWriter, KubernetesTenancy } from '../kube/accounts.ts';
import { kubernetesLeaseClient } from '../kube/lease.ts';
import { KubernetesStatusSink } from '../kube/sink.ts';
import { AccountClients } from '../reconcile/accounts.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger, type LogFormat, type LogLevel } from '../shared/log-output.ts';
import { KubernetesPolicySource } from '../sources/kubernetes.ts';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.ts';
import { loadRuntimeTable } from './runtimes-file.ts';

/**
 * How long a stopping leader waits for the passes in flight before it releases its Lease. Well inside the pod's
 * 30 s termination grace: a pass can wait minutes on AWS (an update in progress), and while the Lease is held the
 * standby cannot take over; once it is released, `mayWrite` stops that pass's writes.
 */
const DRAIN_BEFORE_RELEASE_MS = 10_000;

export interface RunOptions {
  /** Run against an embedded emulator seeded from this fleet file instead of AWS (wins over awsEndpoint). */
  seed?: string;
  kubeconfig?: string;
  namespace?: string;
  regions?: string[];
  awsEndpoint?: string;
  /** Default: see defaultBindAddress. */
  metricsAddr?: string;
  healthAddr?: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  /** Name of the Lease; two installations in one namespace need different ones. */
  leaderElectionId?: string;
  workers: number;
  /** Fleet keys of one account reconciled at once (default half the workers, at least 1). */
  maxWorkersPerAccount?: number;
  /** A runtime table replacing the shipped one (checks.runtime). */
  runtimesFile?: string;
  /** Every policy treated as Audit: the controller reads and reports, never writes AWS. */
  dryRun?: boolean;
  /** Default blast-radius guard (percent of a policy's matched functions one pass may change). */
  maxChangesPercent?: number;
  /** Tags marking functions owned by infrastructure as code, e.g. [{ key: 'ManagedBy', value: 'terraform' }]. */
  iacOwnerTags?: IacOwnerTag[];
  /** Least severe level logged; default info. */
  logLevel?: LogLevel;
  /** json (default) or text. */
  logFormat?: LogFormat;
  /** `--home-account-namespaces`: who may reach the controller's own account (default every namespace). */
  homeAccountNamespaces?: string;
  /** `--account-selector`: govern only the AwsAccounts whose labels match (sharding). */
  accountSelector?: string;
  /** Resolves to stop (tests); default SIGINT/SIGTERM. */
  until?: Promise<unknown>;
}

/**
 * Where /metrics and /healthz listen when no address is given. In a pod (the API server's service variables are
 * set) on every interface, since Prometheus and the kubelet's probes come from outside the pod; anywhere else (a
 * workstation, a CI runner) on loopback only, so a controller holding AWS credentials exposes nothing to the
 * network unless told to.
 */
export function defaultBindAddress(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return (env.KUBERNETES_SERVICE_HOST ?? '') !== '' ? `:${port}` : `127.0.0.1:${port}`;
}

export async function runController(opts: RunOptions): Promise<number> {
  if (opts.seed !== undefined) return runWithEmbeddedAws(opts, opts.seed);
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const regions = opts.regions ?? [process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? ''].filter(Boolean);
  if (regions.length === 0) {
    logger.error({}, 'no default region: pass --regions or set AWS_REGION');
    return EXIT_ERROR;
  }
  let homePolicyNamespaces: ReturnType<typeof parseHomeNamespaces>;
  let accountSelector: ReturnType<typeof parseLabelSelector> | undefined;
  try {
    homePolicyNamespaces = parseHomeNamespaces(opts.homeAccountNamespaces);
    accountSelector = opts.accountSelector === undefined ? undefined : parseLabelSelector(opts.accountSelector);
  } catch (error) {
    logger.error({ error: (error as Error).message }, 'invalid --home-account-namespaces or --account-selector');
    return EXIT_ERROR;
  }
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();

  const identity = defaultIdentity();
  const metrics = new ControllerMetrics({
    version: CONTROLLER_VERSION,
    leaseName: opts.leaderElectionId ?? DEFAULT_LEASE_NAME,
    workers: opts.workers ?? 4,
  });
  // A standby reports 0 from the start, so "no replica leads" is visible, not a missing series.
  if (opts.leaderElect) metrics.setLeader(false);
  registerDryRunGauge(metrics.registry, opts.dryRun ?? false);
  const aws = createAws({
    regions,
    ...(opts.awsEndpoint === undefined ? {} : { endpoint: opts.awsEndpoint }),
    onCall: (call) => metrics.observeAwsCall(call),
  });
  const source = new KubernetesPolicySource(kc, { ...(opts.namespace ? { namespace: opts.namespace } : {}), logger });
  // AwsAccounts and namespace labels (cluster-scoped reads): what tenancy decides grants from.
  const tenancy = new KubernetesTenancy(kc, { logger });
  const accountClients = new AccountClients({
    regions,
    ...(opts.awsEndpoint === undefined ? {} : { endpoint: opts.awsEndpoint }),
    onCall: (call) => metrics.observeAwsCall(call),
    clock: systemClock,
  });
  // The home account's id names it in status; a controller whose own identity cannot be asked still runs.
  const homeAccountId = await callerIdentity(aws, regions[0] ?? 'us-east-1').then(
    (who) => who.account,
    (error: unknown) => {
      logger.warn({ error: (error as Error).message }, 'GetCallerIdentity of the home account failed');
      return '';
    },
  );
  const sink = new KubernetesStatusSink(kc, {
    instance: identity,
    logger,
    onStatusWrite: () => metrics.statusWrites.inc({ result: 'written' }),
    onEvent: (event) => metrics.events.inc({ type: event.type, reason: event.reason }),
  });
  let runtimes: Awaited<ReturnType<typeof loadRuntimeTable>>;
  try {
    runtimes = await loadRuntimeTable(opts.runtimesFile);
  } catch (error) {
    logger.error({ error: (error as Error).message }, 'invalid --runtimes-file');
    return EXIT_ERROR;
  }
  let lost: (() => void) | undefined;
  const leadershipLost = new Promise<void>((resolve) => {
    lost = resolve;
  });
  const elector = opts.leaderElect
    ? new LeaderElector(
        kubernetesLeaseClient(
          kc.makeApiClient(CoordinationV1Api),
          opts.leaderElectionNamespace ?? process.env.POD_NAMESPACE ?? 'default',
          opts.leaderElectionId ?? DEFAULT_LEASE_NAME,
        ),
        {
          identity,
          logger,
          onStartedLeading: () => {
            metrics.setLeader(true);
            logger.info({ identity }, 'started leading');
            manager.start();
            organizations.start();
          },
          onStoppedLeading: () => {
            metrics.setLeader(false);
            logger.error({ identity }, 'leadership lost; exiting');
            lost?.();
          },
        },
      )
    : undefined;
  const manager = new Manager({
    source,
    aws,
    defaultRegions: regions,
    sink,
    workers: opts.workers,
    maxWorkersPerAccount: opts.maxWorkersPerAccount,
    logger,
    // One info record per AWS write (policy, function, field, old -> new).
    execute: { logger },
    metrics,
    dryRun: opts.dryRun ?? false,
    iacOwnerTags: opts.iacOwnerTags ?? [],
    maxChangesPercent: opts.maxChangesPercent ?? DEFAULT_MAX_CHANGES_PERCENT,
    // Every write asks first: a leader that lost its Lease stops writing at once, not when the process exits.
    ...(elector ? { mayWrite: () => elector.isLeader() } : {}),
    ...(runtimes ? { runtimes } : {}),
    tenancy,
    accountClients,
    accountSink: new AccountStatusWriter(kc),
    homeAccountId,
    homePolicyNamespaces,
    ...(accountSelector ? { accountSelector } : {}),
  });

  // AwsOrganizations keep their AwsAccounts in step; like the manager, only the leader runs it.
  const organizations = organizationReconciler(kc, { endpoint: opts.awsEndpoint, logger });
  const health = new HealthServer({
    address: opts.healthAddr ?? defaultBindAddress(8081),
    readiness: controllerReadiness({
      watcherReady: () => source.watcher.ready() && tenancy.ready(),
      ...(elector ? { isLeader: () => elector.isLeader() } : {}),
      unavailableRegions: () => manager.unavailableRegions(),
    }),
    liveness: { process: () => ({ ok: true }) },
  });
  const metricsServer = new HealthServer({
    address: opts.metricsAddr ?? defaultBindAddress(8080),
    metrics: () => metrics.render(),
  });
  const healthAt = await health.start();
  const metricsAt = await metricsServer.start();
  logger.info(
    {
      health: healthAt.url,
      metrics: metricsAt.url,
      regions,
      identity,
      dryRun: opts.dryRun ?? false,
      maxChangesPercent: opts.maxChangesPercent ?? DEFAULT_MAX_CHANGES_PERCENT,
      homeAccount: { accountId: homeAccountId, policyNamespaces: homePolicyNamespaces },
      ...(accountSelector ? { accountSelector } : {}),
    },
    'controller starting',
  );

  await Promise.all([source.start(), tenancy.start()]);
  if (elector) elector.start();
  else {
    manager.start();
    organizations.start();
  }

  const stop =
    opts.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  const reason = await Promise.race([stop.then(() => 'signal' as const), leadershipLost.then(() => 'lost' as const)]);
  logger.info({ reason }, 'shutting down');
  const drained = Promise.all([manager.stop(), organizations.stop()]).then(() => true);
  const inTime = await Promise.race([drained, delay(DRAIN_BEFORE_RELEASE_MS, false, { ref: false })]);
  if (!inTime)
    logger.warn(
      { waitedMs: DRAIN_BEFORE_RELEASE_MS },
      'passes still in flight at shutdown: leadership is released first, so they write nothing more',
    );
  organizations.destroy();
  await elector?.stop();
  await source.stop();
  await tenancy.stop();
  accountClients.destroy();
  await health.stop();
  await metricsServer.stop();
  aws.destroy();
  return reason === 'lost' ? EXIT_ERROR : EXIT_OK;
}

/**
 * `run --seed FILE`: the same controller against an in-process emulator seeded from the file (its regions are the
 * default regions unless --regions is given), stopped when the controller stops. Loaded only when asked for.
 */
async function runWithEmbeddedAws(opts: RunOptions, seed: string): Promise<number> {
  const { startEmbeddedAws } = await import('./embedded-aws.ts');
  const embedded = await startEmbeddedAws(seed);
  try {
    createLogger({ level: opts.logLevel, format: opts.logFormat }).info(
      { endpoint: embedded.url, seed },
      'embedded AWS emulator started',
    );
    const { seed: _seed, ...rest } = opts;
    return await runController({ ...rest, awsEndpoint: embedded.url, regions: opts.regions ?? embedded.regions });
  } finally {
    await embedded.stop();
  }
}
