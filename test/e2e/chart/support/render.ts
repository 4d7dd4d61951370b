/**
 * The Helm chart as the tests use it: `helm template` of charts/lambda-policy-controller with the pinned helm, and
 * the chart's rendered ServiceAccount + RBAC applied to a cluster. The controller e2e tests run the controller
 * under exactly these objects, so the chart's grants (from files/rbac-rules.yaml, the one place the rules live) are
 * proven enough, and the can-i tables prove they are no more.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type ClusterClient, REPO_ROOT } from '../../harness/index.ts';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'lambda-policy-controller');
/** The release name whose objects are named plainly `lambda-policy-controller` (full name = release name). */
export const DEFAULT_RELEASE = 'lambda-policy-controller';
export const RBAC_TEMPLATES = ['templates/serviceaccount.yaml', 'templates/rbac.yaml'] as const;

export interface RenderOptions {
  release?: string;
  namespace: string;
  /** `--set key=value` pairs. */
  set?: Record<string, string>;
  /** `--show-only` templates (default: all). */
  showOnly?: readonly string[];
  /** Leave out the `helm test` hooks (they are not installed by `helm install`). */
  skipTests?: boolean;
  /** Chart directory or packaged .tgz (default: the chart in the repository). */
  chart?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** `helm template` of the chart: the YAML text helm prints. */
export async function renderChartYaml(cluster: ClusterClient, options: RenderOptions): Promise<string> {
  const chart = options.chart ?? CHART_DIR;
  const args = ['template', options.release ?? DEFAULT_RELEASE, chart, '--namespace', options.namespace];
  if (options.skipTests) args.push('--skip-tests');
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  for (const template of options.showOnly ?? []) args.push('--show-only', template);
  return (await cluster.helm(args)).stdout;
}

/** `helm template` of the chart, parsed into objects (empty documents dropped). */
export async function renderChart(cluster: ClusterClient, options: RenderOptions): Promise<KubeObject[]> {
  return parseObjects(await renderChartYaml(cluster, options));
}

export function parseObjects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

/**
 * Applies the chart's ServiceAccount, ClusterRole(Binding) and leader-election Role(Binding) for a release in
 * `namespace` (which must exist), as `helm install` would create them. Returns the ServiceAccount's name.
 */
export async function applyChartRbac(
  cluster: ClusterClient,
  options: Omit<RenderOptions, 'showOnly'>,
): Promise<{ serviceAccount: string; objects: KubeObject[] }> {
  const yaml = await renderChartYaml(cluster, { ...options, showOnly: RBAC_TEMPLATES });
  await cluster.apply(yaml);
  const objects = parseObjects(yaml);
  const sa = objects.find((o) => o.kind === 'ServiceAccount');
  if (!sa) throw new Error('the chart rendered no ServiceAccount');
  return { serviceAccount: sa.metadata.name, objects };
}
