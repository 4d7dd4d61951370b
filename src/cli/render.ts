/**
 * Renders a plan for people (grouped per function, like `terraform plan`), for pull-request comments (markdown)
 * and for machines (the stable `plan -o json` document, also as YAML). The JSON shape is a promise to scripts:
 * keys are added, never renamed or removed, and `formatVersion` says which shape it is.
 *
 * Everything that came from outside (function names and values read from AWS, error text, policy names) is
 * escaped before it reaches a terminal or a comment.
 */
import { Document, visit } from 'yaml';
import type { FunctionExecution } from '../aws/index.ts';
import { HOME_ACCOUNT } from '../engine/grants.ts';
import { templateProperty } from '../engine/iac.ts';
import {
  type Action,
  type Drift,
  type FunctionPlan,
  type Plan,
  type QualifierReport,
  type Refusal,
  SCHEDULED_ACTION_PREFIX,
  type Violation,
} from '../engine/model.ts';
import { guardLines, type RolloutJson, rolloutJson } from './approval.ts';
import { escapeJsonText, escapeTerminal, hasUnsafe } from './escape.ts';

/**
 * Version of the machine-readable document: the major changes only when a key is renamed or removed (never, so
 * far), the minor when keys are added. Readers check the major.
 */
export const PLAN_FORMAT_VERSION = '1.1';

export interface PlanJson {
  now: string;
  summary: Plan['summary'];
  functions: FunctionJson[];
  policies: PolicyJson[];
}

/** The top-level document: the plan plus what only the whole run knows. */
export interface PlanDocument extends PlanJson {
  formatVersion: string;
  /** Documents that are not LambdaPolicies, counted by kind (a GitOps folder holds other manifests too). */
  skipped: Record<string, number>;
  executions?: ExecutionJson[];
  /** The plan re-read after apply; null when that re-check failed (the writes above were made all the same). */
  after?: PlanJson | null;
}

export interface FunctionJson {
  /** The account the function is in (`home`: the one of the current credentials; added in 1.1). */
  account: string;
  region: string;
  name: string;
  compliant: boolean;
  drift: Drift[];
  actions: Action[];
  refusals: Refusal[];
  overridden: FunctionPlan['overridden'];
  auditDrift: Drift[];
  /** Report-only checks that do not hold: `{check, actual, message, policy}` (never a secret's value). */
  violations: Violation[];
  /** The infrastructure-as-code owner Enforce policies hold back for (their drift is in auditDrift; additive). */
  iac?: { tool: string; owner: string; resourceType: string; policies: string[] };
  /** Governed qualifiers whose served version differs from the policy (`state: PendingPublish`; additive). */
  qualifiers?: QualifierReport[];
}

export interface PolicyJson {
  name: string;
  mode: string;
  matched: number;
  compliant: number;
  drifted: number;
  overridden: number;
  infeasible: number;
  violating: number;
  problems: string[];
  provisionedConcurrency?: { desiredNow: number; window?: string; nextChange?: { at: string; value: number } };
  cost?: { provisionedConcurrencyMonthlyUSD: number; architectureMonthlySavingUSD?: number };
  /** The blast-radius guard: what the policy would change and whether the guard stops it (additive). */
  rollout?: RolloutJson;
}

export interface ExecutionJson {
  region: string;
  name: string;
  ok: boolean;
  outcomes: { api: string; status: string; error?: string; note?: string }[];
}

export function planToJson(plan: Plan, account: string = HOME_ACCOUNT): PlanJson {
  return {
    now: isoSeconds(plan.now),
    summary: plan.summary,
    functions: plan.functions.map((f) => ({
      account,
      region: f.region,
      name: f.name,
      compliant: f.compliant,
      drift: f.drift,
      actions: f.actions,
      refusals: f.refusals,
      overridden: f.overridden,
      auditDrift: f.auditDrift,
      violations: f.violations ?? [],
      ...(f.iac ? { iac: { ...f.iac.owner, policies: f.iac.policies } } : {}),
      ...(f.qualifiers ? { qualifiers: f.qualifiers } : {}),
    })),
    policies: plan.policies.map((p) => {
      const json: PolicyJson = {
        name: p.id,
        mode: p.mode,
        matched: p.matched,
        compliant: p.compliant,
        drifted: p.drifted,
        overridden: p.overridden,
        infeasible: p.infeasible,
        violating: p.violating ?? 0,
        problems: p.problems,
      };
      if (p.provisionedConcurrency) {
        const view = p.provisionedConcurrency;
        json.provisionedConcurrency = {
          desiredNow: view.desiredNow,
          ...(view.window ? { window: view.window } : {}),
          ...(view.nextChange
            ? { nextChange: { at: isoSeconds(view.nextChange.at), value: view.nextChange.value } }
            : {}),
        };
      }
      if (p.cost) json.cost = p.cost;
      if (p.rollout) json.rollout = rolloutJson(p.rollout);
      return json;
    }),
  };
}

export function executionsToJson(executions: readonly FunctionExecution[]): ExecutionJson[] {
  return executions.map((e) => ({
    region: e.region,
    name: e.name,
    ok: e.ok,
    outcomes: e.outcomes.map((o) => ({
      api: o.action.api,
      status: o.status,
      ...(o.error ? { error: `${o.error.code}: ${o.error.message}` } : {}),
      ...(o.note ? { note: o.note } : {}),
    })),
  }));
}

/** What a run hands to the renderers. */
export interface RunReport {
  plan: Plan;
  skipped: Record<string, number>;
  /** The account the plan is in (default `home`, the one of the current credentials). */
  account?: string;
  /** Present for apply; `after` is null when the re-check after the writes failed. */
  applied?: { executions: readonly FunctionExecution[]; after: Plan | null };
}

export function planDocument(report: RunReport): PlanDocument {
  const account = report.account ?? HOME_ACCOUNT;
  const doc: PlanDocument = {
    formatVersion: PLAN_FORMAT_VERSION,
    ...planToJson(report.plan, account),
    skipped: report.skipped,
  };
  if (report.applied) {
    doc.executions = executionsToJson(report.applied.executions);
    doc.after = report.applied.after === null ? null : planToJson(report.applied.after, account);
  }
  return doc;
}

/** `plan -o json`: the document, with characters a terminal could act on written as JSON escapes. */
export function renderJson(report: RunReport): string {
  return `${escapeJsonText(JSON.stringify(planDocument(report), null, 2))}\n`;
}

/** `plan -o yaml`: the same document. */
export function renderYaml(report: RunReport): string {
  const doc = new Document(planDocument(report));
  // Only a double-quoted scalar can hold an escape, so strings with characters a terminal may act on are written
  // double-quoted, and those characters (which the yaml library leaves raw) as `\uNNNN`.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && hasUnsafe(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return escapeJsonText(doc.toString({ lineWidth: 0 }));
}

/** ISO 8601 without milliseconds when there are none (`2026-12-01T09:00:00Z`): shorter, and what people type. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// What a person reads

/** Each matched function lands in exactly one of these, so the summary's counts add up to `matched`. */
export type Outcome = 'change' | 'report' | 'refused' | 'compliant';

/** Precedence: refused (a person must act) > change (apply writes) > report (drift apply leaves) > compliant. */
export function outcomeOf(fn: FunctionPlan): Outcome {
  if (fn.compliant) return 'compliant';
  if (fn.refusals.length > 0) return 'refused';
  if (fn.actions.length > 0) return 'change';
  return 'report';
}

export function outcomeCounts(plan: Plan): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { change: 0, report: 0, refused: 0, compliant: 0 };
  for (const fn of plan.functions) counts[outcomeOf(fn)]++;
  return counts;
}

/** The one summary line; its four counts add up to the functions matched. */
export function summaryLine(plan: Plan): string {
  const c = outcomeCounts(plan);
  const n = plan.summary.matched;
  return (
    `Plan: ${c.change} to change, ${c.report} to report, ${c.refused} refused, ${c.compliant} compliant, ` +
    `of ${n} function${n === 1 ? '' : 's'}`
  );
}

/** The blast-radius guard: one `guard:` line per Enforce policy that changes something. */
function guardSection(plan: Plan): string[] {
  return guardLines(plan)
    .split('\n')
    .filter((line) => line !== '');
}

/** Functions that fail a check, whatever else they have (report only: apply never writes for a check). */
function checksLine(plan: Plan): string | undefined {
  const n = plan.summary.violating ?? 0;
  return n > 0 ? `Checks: ${n} function${n === 1 ? '' : 's'} violate checks (report only)` : undefined;
}

const FIELD_APIS: Record<string, readonly Action['api'][]> = {
  memorySize: ['UpdateFunctionConfiguration'],
  timeout: ['UpdateFunctionConfiguration'],
  architecture: ['UpdateFunctionCode'],
  reservedConcurrency: ['PutFunctionConcurrency', 'DeleteFunctionConcurrency'],
  provisionedConcurrency: [
    'PutProvisionedConcurrencyConfig',
    'DeleteProvisionedConcurrencyConfig',
    'RegisterScalableTarget',
  ],
  scheduledActions: ['PutScheduledAction', 'DeleteScheduledAction', 'RegisterScalableTarget'],
  logging: ['UpdateFunctionConfiguration'],
  tracing: ['UpdateFunctionConfiguration'],
  asyncInvocation: ['PutFunctionEventInvokeConfig', 'UpdateFunctionEventInvokeConfig'],
  logRetentionDays: ['PutRetentionPolicy'],
};

/** Whether apply writes something for this field of the function. */
function fieldChanges(fn: FunctionPlan, field: string): boolean {
  const apis = FIELD_APIS[field];
  // A field this renderer does not know yet: trust that the engine planned it if it planned anything.
  if (apis === undefined) return fn.actions.length > 0;
  return fn.actions.some((a) => apis.includes(a.api));
}

type Symbol = '~' | '+' | '-' | '!' | 'x';

export interface ChangeLine {
  symbol: Symbol;
  field: string;
  /** `actual -> desired`, or what is added/removed. */
  change: string;
  policy: string;
  /** Why it is not applied, when it is not. */
  note?: string;
}

/**
 * A value for people. Owned scheduled actions are named `<prefix>.<namespace>.<policy>.<window>.<edge>`; the line
 * already names the policy, so its own actions show as `<window>.<edge>` (JSON keeps the full names).
 */
function show(value: unknown, policy: string): string {
  if (value === null || value === undefined) return 'none';
  // `{format: JSON, applicationLogLevel: INFO}`: spaced, so a long object wraps at its entries.
  if (Array.isArray(value)) return `[${value.map((v) => show(v, policy)).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${show(v, policy)}`)
      .join(', ')}}`;
  const own = `${SCHEDULED_ACTION_PREFIX}.${policy.replace('/', '.')}.`;
  return String(value).replaceAll(own, '').replaceAll(`${SCHEDULED_ACTION_PREFIX}.`, '');
}

function changeText(d: Drift): { symbol: '~' | '+' | '-'; text: string } {
  if (d.actual === 'absent') return { symbol: '+', text: show(d.desired, d.policy) };
  if (d.desired === 'absent') return { symbol: '-', text: show(d.actual, d.policy) };
  return { symbol: '~', text: `${show(d.actual, d.policy)} -> ${show(d.desired, d.policy)}` };
}

/** The lines of one function, in the engine's order: enforced drift, refusals without drift, Audit findings. */
export function changeLines(fn: FunctionPlan): ChangeLine[] {
  const lines: ChangeLine[] = [];
  const refused = new Map(fn.refusals.map((r) => [r.field, r]));
  for (const d of fn.drift) {
    const { symbol, text } = changeText(d);
    const refusal = refused.get(d.field);
    if (refusal) {
      lines.push({ symbol: 'x', field: d.field, change: text, policy: d.policy, note: refusalText(refusal) });
    } else if (fieldChanges(fn, d.field)) {
      lines.push({ symbol, field: d.field, change: text, policy: d.policy });
    } else {
      lines.push({ symbol: '!', field: d.field, change: text, policy: d.policy, note: 'not changed by apply' });
    }
  }
  const driftFields = new Set(fn.drift.map((d) => d.field));
  for (const r of fn.refusals) {
    if (!driftFields.has(r.field))
      lines.push({ symbol: 'x', field: r.field, change: '', policy: r.policy, note: refusalText(r) });
  }
  for (const d of fn.auditDrift) {
    // An Enforce policy held back because infrastructure as code owns the function: say where to fix it.
    const note = fn.iac?.policies.includes(d.policy)
      ? `IaCManaged: ${templateProperty(fn.iac.owner, d.field)} (${fn.iac.owner.owner})`
      : 'audit';
    lines.push({ symbol: '!', field: d.field, change: changeText(d).text, policy: d.policy, note });
  }
  // A published version never changes: the next publish (the deployer's) carries what $LATEST has.
  for (const q of fn.qualifiers ?? []) {
    const fields = q.fields.map((f) => `${f.field} ${String(f.served)} (policy ${String(f.desired)})`).join(', ');
    lines.push({
      symbol: '!',
      field: `qualifier ${q.qualifier}`,
      change: `version ${q.version}: ${fields}`,
      policy: q.policy,
      note: `${q.state}: the next publish carries the fix`,
    });
  }
  // Checks are report-only: apply never writes for them, a person fixes the function (or its deployment).
  for (const v of fn.violations ?? []) {
    const note = v.message === '' ? 'violation' : `violation: ${v.message}`;
    lines.push({ symbol: '!', field: `check ${v.check}`, change: show(v.actual, v.policy), policy: v.policy, note });
  }
  return lines;
}

function refusalText(r: Refusal): string {
  return `refused, ${r.reason}: ${r.message}`;
}

const HEADER_SYMBOL: Record<Outcome, string> = { change: '~', report: '!', refused: 'x', compliant: ' ' };

export const LEGEND = '~ change  + add  - remove  ! left as it is (Audit, or not writable)  x refused';

export interface TextOptions {
  /** Lines are wrapped to this many columns (80-120 columns fit a terminal or a CI log). Default 100. */
  width?: number;
}

/** Word-wraps `text` after `prefix`; continuation lines are indented to `indent` columns. */
function wrap(prefix: string, text: string, width: number, indent: number): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let current = prefix;
  let empty = true;
  // A word that cannot fit on a line of its own is cut, so no line is ever wider than `width`.
  const room = Math.max(width - indent, 8);
  const pieces = words.flatMap((w) =>
    w.length <= room
      ? [w]
      : Array.from({ length: Math.ceil(w.length / room) }, (_, i) => w.slice(i * room, (i + 1) * room)),
  );
  for (const word of pieces) {
    const candidate = empty ? `${current}${word}` : `${current} ${word}`;
    if (!empty && candidate.length > width) {
      lines.push(current);
      current = `${' '.repeat(indent)}${word}`;
    } else {
      current = candidate;
    }
    empty = false;
  }
  lines.push(current);
  return lines.map((line) => line.trimEnd());
}

/**
 * One function: `~ region/name  (policy)`, then a line per field. Where several policies have something to say,
 * their lines are grouped under `# namespace/policy`, as terraform groups a resource's nested blocks.
 */
function functionBlock(fn: FunctionPlan, width: number): string[] {
  const lines = changeLines(fn);
  const byPolicy = new Map<string, ChangeLine[]>();
  for (const line of lines) byPolicy.set(line.policy, [...(byPolicy.get(line.policy) ?? []), line]);
  const policies = [...byPolicy.keys()];
  const onePolicy = policies.length === 1;
  const header = `${HEADER_SYMBOL[outcomeOf(fn)]} ${fn.region}/${fn.name}${onePolicy ? `  (${policies[0] ?? ''})` : ''}`;
  const out = [escapeTerminal(header)];
  const fieldWidth = Math.max(...lines.map((l) => l.field.length));
  for (const [policy, group] of byPolicy) {
    if (!onePolicy) out.push(escapeTerminal(`    # ${policy}`));
    for (const line of group) {
      const prefix = `    ${line.symbol} ${line.field.padEnd(fieldWidth)}  `;
      const text = escapeTerminal(line.note ? `${line.change}  (${line.note})`.trimStart() : line.change);
      const indent = prefix.length <= width / 2 ? prefix.length : 8;
      out.push(...wrap(prefix, text, width, indent));
    }
  }
  const apis = actionCounts(fn.actions);
  if (apis !== '') out.push(...wrap('      apply: ', apis, width, 13));
  return out;
}

/** `UpdateFunctionConfiguration, PutScheduledAction(2)` in the engine's order. */
function actionCounts(actions: readonly Action[]): string {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(a.api, (counts.get(a.api) ?? 0) + 1);
  return [...counts.entries()].map(([api, n]) => (n === 1 ? api : `${api}(${n})`)).join(', ');
}

function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** The per-policy counts; `$/MONTH` (provisioned concurrency's cost) only when some policy has a cost. */
function policyRows(plan: Plan): string[][] {
  const costs = plan.policies.some((p) => (p.cost?.provisionedConcurrencyMonthlyUSD ?? 0) > 0);
  // VIOLATING only when some policy has checks that fail, so plans without checks read as before.
  const violating = plan.policies.some((p) => (p.violating ?? 0) > 0);
  const rows: string[][] = [
    [
      'POLICY',
      'MODE',
      'MATCHED',
      'COMPLIANT',
      'DRIFTED',
      'OVERRIDDEN',
      'INFEASIBLE',
      ...(violating ? ['VIOLATING'] : []),
      ...(costs ? ['$/MONTH'] : []),
    ],
  ];
  for (const p of plan.policies) {
    const cost = p.cost ? p.cost.provisionedConcurrencyMonthlyUSD.toFixed(2) : '-';
    rows.push([
      p.id,
      p.mode,
      String(p.matched),
      String(p.compliant),
      String(p.drifted),
      String(p.overridden),
      String(p.infeasible),
      ...(violating ? [String(p.violating ?? 0)] : []),
      ...(costs ? [cost] : []),
    ]);
  }
  return rows;
}

function skippedLine(skipped: Record<string, number>): string | undefined {
  const entries = Object.entries(skipped);
  if (entries.length === 0) return undefined;
  const total = entries.reduce((n, [, count]) => n + count, 0);
  const kinds = entries.map(([kind, count]) => `${count} ${kind}`).join(', ');
  return `Skipped ${total} document${total === 1 ? '' : 's'} of other kinds: ${kinds}`;
}

/**
 * For people: one block per function that is not compliant (header `~ region/name (policy)`, then one line per
 * field, `~ memorySize  512 -> 1024`, and the calls apply makes), the policy table, problems, and the summary.
 */
export function renderText(report: RunReport, options: TextOptions = {}): string {
  const width = options.width ?? 100;
  const { plan } = report;
  const out: string[] = [];
  // The home account is the one of the current credentials: named only when the run reached others too.
  if (report.account !== undefined && report.account !== HOME_ACCOUNT)
    out.push(escapeTerminal(`account ${report.account}`), '');
  const changed = plan.functions.filter((fn) => !fn.compliant);
  if (changed.length > 0) {
    out.push(LEGEND, '');
    for (const fn of changed) out.push(...functionBlock(fn, width), '');
  } else {
    out.push('No drift.', '');
  }
  out.push(...table(policyRows(plan)).map(escapeTerminal), '');
  for (const p of plan.policies)
    for (const problem of p.problems) out.push(...wrap('', escapeTerminal(`problem: ${p.id}: ${problem}`), width, 4));
  const skipped = skippedLine(report.skipped);
  if (skipped) out.push(escapeTerminal(skipped));
  const checks = checksLine(plan);
  if (checks) out.push(checks);
  for (const line of guardSection(plan)) out.push(...wrap('', escapeTerminal(line), width, 4));
  out.push(summaryLine(plan));
  if (report.applied) out.push(...appliedLines(report.applied.executions, report.applied.after, width));
  return `${out.join('\n')}\n`;
}

function failure(outcome: FunctionExecution['outcomes'][number] | undefined): string {
  const error = outcome?.error;
  return error ? `${error.code}: ${error.message}` : 'unknown error';
}

function appliedLines(executions: readonly FunctionExecution[], after: Plan | null, width: number): string[] {
  const lines: string[] = [''];
  const applied = executions.reduce((n, e) => n + e.outcomes.filter((o) => o.status === 'applied').length, 0);
  const failed = executions.filter((e) => !e.ok);
  lines.push(`applied ${applied} changes to ${executions.length} functions; ${failed.length} failed`);
  for (const e of failed) {
    const bad = e.outcomes.find((o) => o.status === 'failed');
    const text = `failed: ${e.region}/${e.name}: ${bad?.action.api}: ${failure(bad)}`;
    lines.push(...wrap('  ', escapeTerminal(text), width, 4));
  }
  if (after === null) {
    lines.push('after apply: the re-check failed (see the error below)');
    return lines;
  }
  const s = after.summary;
  lines.push(`after apply: ${s.compliant}/${s.matched} compliant, ${s.drifted} drifted, ${s.infeasible} infeasible`);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown, for a pull-request comment

/** Rows shown before the table is cut (a GitHub comment holds 65,536 characters). */
export const MARKDOWN_MAX_ROWS = 200;

/** Plain text in a markdown table cell: control characters escaped, markup characters made literal. */
export function markdownText(text: string): string {
  return escapeTerminal(text)
    .replace(/[\\`*_[\]~|#]/g, (ch) => `\\${ch}`)
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

const MARKDOWN_SYMBOL: Record<Symbol, string> = {
  '~': 'change',
  '+': 'add',
  '-': 'remove',
  '!': 'report',
  x: 'refused',
};

export function renderMarkdown(report: RunReport, options: { title?: string } = {}): string {
  const { plan } = report;
  const out: string[] = [`### ${markdownText(options.title ?? 'lambda-policy-controller plan')}`, ''];
  if (report.account !== undefined && report.account !== HOME_ACCOUNT)
    out.push(`account **${markdownText(report.account)}**`, '');
  out.push(`**${markdownText(summaryLine(plan))}** at ${isoSeconds(plan.now)}`, '');
  const rows: string[] = [];
  for (const fn of plan.functions) {
    if (fn.compliant) continue;
    for (const line of changeLines(fn)) {
      const change = [line.change.replace(' -> ', ' → '), line.note ? `(${line.note})` : '']
        .filter((p) => p !== '')
        .join(' ');
      rows.push(
        `| ${MARKDOWN_SYMBOL[line.symbol]} | ${markdownText(`${fn.region}/${fn.name}`)} | ${markdownText(line.field)} ` +
          `| ${markdownText(change)} | ${markdownText(line.policy)} |`,
      );
    }
  }
  if (rows.length > 0) {
    out.push('| | function | field | change | policy |', '|---|---|---|---|---|');
    // "report": drift apply leaves (an Audit policy, or nothing apply can write); "refused": see the note.
    out.push(...rows.slice(0, MARKDOWN_MAX_ROWS));
    if (rows.length > MARKDOWN_MAX_ROWS)
      out.push('', `… ${rows.length - MARKDOWN_MAX_ROWS} more rows: run \`plan -o json\` for all of them.`);
    out.push('');
  } else {
    out.push('No drift.', '');
  }
  const [head = [], ...body] = policyRows(plan);
  out.push(`| ${head.map((h) => markdownText(h.toLowerCase())).join(' | ')} |`);
  out.push(
    `|---|---|${head
      .slice(2)
      .map(() => '--:|')
      .join('')}`,
  );
  for (const row of body) out.push(`| ${row.map(markdownText).join(' | ')} |`);
  const problems = plan.policies.flatMap((p) =>
    p.problems.map((problem) => `- ${markdownText(`${p.id}: ${problem}`)}`),
  );
  if (problems.length > 0) out.push('', '**Problems**', '', ...problems);
  const skipped = skippedLine(report.skipped);
  if (skipped) out.push('', markdownText(skipped));
  const checks = checksLine(plan);
  if (checks) out.push('', markdownText(checks));
  const guard = guardSection(plan);
  if (guard.length > 0) out.push('', ...guard.map((line) => `- ${markdownText(line)}`));
  if (report.applied) {
    const { executions } = report.applied;
    const failed = executions.filter((e) => !e.ok);
    out.push('', `**Apply:** ${executions.length} functions changed, ${failed.length} failed`);
    for (const e of failed) {
      const bad = e.outcomes.find((o) => o.status === 'failed');
      out.push(`- ${markdownText(`${e.region}/${e.name}: ${bad?.action.api}: ${failure(bad)}`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
