/**
 * The chart's Grafana dashboard and alert rules query only metrics the controller exports: every PromQL
 * expression in files/grafana-dashboard.json and files/prometheus-rules.yaml is reduced to the metric names it
 * selects, and each must be in the controller's metric registry (read from ControllerMetrics, not a list here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';

const CHART = join(import.meta.dirname, '..', '..', '..', 'charts', 'lambda-policy-controller');

/** Metrics Prometheus itself adds to every scrape target. */
const SCRAPE_METRICS = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers (`{...}`), ranges (`[5m]`), grouping
 * clauses (`by (...)`) and function names are dropped; what is left that looks like an identifier is a metric.
 */
function metricNames(expr: string): string[] {
  let text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = text.slice((match.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function
    if (KEYWORDS.has(word.toLowerCase())) continue;
    const before = text.slice(0, match.index ?? 0);
    if (/[$.\d]$/.test(before)) continue; // a Grafana variable, a number's exponent, a field
    names.add(word);
  }
  return [...names];
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(join(CHART, 'files', 'grafana-dashboard.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; query?: string | { query?: string } }[] };
  };
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? [])
        if (target.expr) out.push({ where: `panel ${panel.title}`, expr: target.expr });
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const inner = query?.match(/^label_values\((.*),\s*\w+\)$/)?.[1];
    if (inner) out.push({ where: `variable ${variable.name}`, expr: inner });
  }
  return out;
}

function ruleQueries(): { where: string; expr: string }[] {
  const text = readFileSync(join(CHART, 'files', 'prometheus-rules.yaml'), 'utf8').replaceAll(
    'LPC_SELECTOR',
    'job="lpc-metrics",namespace="lambda-policy-system"',
  );
  const doc = parse(text) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })));
}

describe('metricNames (the PromQL reading the checks rely on)', () => {
  it('finds selected metrics and leaves out functions, labels, grouping, ranges and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, bucket) (rate(lpc_aws_call_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))',
      ),
    ).toEqual(['lpc_aws_call_duration_seconds_bucket']);
    expect(metricNames('sum(a_total) / sum without (pod) (b_total{x="sum(c)"}) > 0.2 and on (policy) up == 1')).toEqual(
      ['a_total', 'b_total', 'up'],
    );
    expect(metricNames('time() - max by (policy) (lpc_policy_next_check_timestamp_seconds) > 1e3')).toEqual([
      'lpc_policy_next_check_timestamp_seconds',
    ]);
  });
});

describe('the chart queries only metrics the controller exports', () => {
  const queries = [...dashboardQueries(), ...ruleQueries()];

  it('has queries to check (dashboard panels, variables and every alert)', () => {
    expect(queries.filter((q) => q.where.startsWith('panel')).length).toBeGreaterThan(20);
    expect(queries.filter((q) => q.where.startsWith('alert')).map((q) => q.where)).toEqual([
      'alert LambdaPolicyControllerDown',
      'alert LambdaPolicyControllerNotLeading',
      'alert LambdaPolicyStalled',
      'alert LambdaPolicyCheckOverdue',
      'alert LambdaPolicyAwsThrottlingSustained',
      'alert LambdaPolicyReconcileErrors',
    ]);
  });

  it('every metric named in a query is in the controller registry', async () => {
    const exported = new Set(await new ControllerMetrics().metricNames());
    // The registry really is what the check reads: a name it does not hold is reported.
    expect(exported.has('controller_runtime_reconcile_total')).toBe(true);
    expect(exported.has('lpc_reconcile_total')).toBe(false);

    const unknown = queries.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name) && !SCRAPE_METRICS.has(name))
        .map((name) => `${where}: ${name}`),
    );

    expect(unknown).toEqual([]);
    const used = new Set(queries.flatMap(({ expr }) => metricNames(expr)));
    // The standard names dashboards expect are among those queried, and every query names at least one metric.
    for (const name of ['controller_runtime_reconcile_total', 'workqueue_depth', 'leader_election_master_status'])
      expect(used.has(name), name).toBe(true);
    expect(queries.filter(({ expr }) => metricNames(expr).length === 0)).toEqual([]);
  });
});
