/**
 * Renders a plan for people (a fixed-width table) and for machines (the stable `plan -o json` document). The JSON
 * shape is a promise to scripts: keys are added, never renamed or removed.
 */

import { templateProperty } from '../engine/iac.ts';
import {
  type Action,
  type Drift,
  type FunctionPlan,
  type Plan,
  type Refusal,
  SCHEDULED_ACTION_PREFIX,
} from '../engine/model.ts';
import { type RolloutJson, rolloutJson } from './approval.ts';

export interface PlanJson {
  now: string;
  summary: Plan['summary'];
  functions: FunctionJson[];
  policies: PolicyJson[];
}

export interface FunctionJson {
  region: string;
  name: string;
  compliant: boolean;
  drift: Drift[];
  actions: Action[];
  refusals: Refusal[];
  overridden: FunctionPlan['overridden'];
  auditDrift: Drift[];
  /** The infrastructure-as-code owner Enforce policies hold back for (their drift is in auditDrift; additive). */
  iac?: { tool: string; owner: string; resourceType: string; policies: string[] };
}

export interface PolicyJson {
  name: string;
  mode: string;
  matched: number;
  compliant: number;
  drifted: number;
  overridden: number;
  infeasible: number;
  problems: string[];
  provisionedConcurrency?: { desiredNow: number; window?: string; nextChange?: { at: string; value: number } };
  cost?: { provisionedConcurrencyMonthlyUSD: number; architectureMonthlySavingUSD?: number };
  /** The blast-radius guard: what the policy would change and whether the guard stops it (additive). */
  rollout?: RolloutJson;
}

export function planToJson(plan: Plan): PlanJson {
  return {
    now: isoSeconds(plan.now),
    summary: plan.summary,
    functions: plan.functions.map((f) => ({
      region: f.region,
      name: f.name,
      compliant: f.compliant,
      drift: f.drift,
      actions: f.actions,
      refusals: f.refusals,
      overridden: f.overridden,
      auditDrift: f.auditDrift,
      ...(f.iac ? { iac: { ...f.iac.owner, policies: f.iac.policies } } : {}),
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

/** ISO 8601 without milliseconds when there are none (`2026-12-01T09:00:00Z`): shorter, and what people type. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'object') return JSON.stringify(value);
  // Every owned scheduled action carries the prefix: the table leaves it out to stay readable (JSON keeps it).
  return String(value).replaceAll(`${SCHEDULED_ACTION_PREFIX}.`, '');
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A human summary: one line per drifted field, then policies and totals. Compliant functions are counted only. */
export function planToTable(plan: Plan): string {
  const out: string[] = [];
  const rows: string[][] = [['REGION', 'FUNCTION', 'FIELD', 'DESIRED', 'ACTUAL', 'POLICY', 'ACTION']];
  for (const fn of plan.functions) {
    const refusedFields = new Map(fn.refusals.map((r) => [r.field, r.reason]));
    for (const d of fn.drift) {
      const refused = refusedFields.get(d.field);
      rows.push([
        fn.region,
        fn.name,
        d.field,
        show(d.desired),
        show(d.actual),
        d.policy,
        refused ? `refused: ${refused}` : actionFor(fn, d.field),
      ]);
    }
    // A refused field the engine reports without a drift entry (e.g. ProvisionedExceedsReserved) still gets a row,
    // so an infeasible function is never invisible in the table.
    const driftFields = new Set(fn.drift.map((d) => d.field));
    for (const r of fn.refusals) {
      if (!driftFields.has(r.field))
        rows.push([fn.region, fn.name, r.field, '-', '-', r.policy, `refused: ${r.reason}`]);
    }
    for (const d of fn.auditDrift) {
      const action = fn.iac?.policies.includes(d.policy)
        ? `IaCManaged: ${templateProperty(fn.iac.owner, d.field)} (${fn.iac.owner.owner})`
        : 'audit only';
      rows.push([fn.region, fn.name, d.field, show(d.desired), show(d.actual), d.policy, action]);
    }
  }
  if (rows.length > 1) out.push(table(rows), '');
  else out.push('No drift.', '');
  const policyRows: string[][] = [
    ['POLICY', 'MODE', 'MATCHED', 'COMPLIANT', 'DRIFTED', 'OVERRIDDEN', 'INFEASIBLE', 'PC $/MONTH'],
  ];
  for (const p of plan.policies) {
    policyRows.push([
      p.id,
      p.mode,
      String(p.matched),
      String(p.compliant),
      String(p.drifted),
      String(p.overridden),
      String(p.infeasible),
      p.cost ? p.cost.provisionedConcurrencyMonthlyUSD.toFixed(2) : '-',
    ]);
  }
  out.push(table(policyRows), '');
  for (const p of plan.policies) for (const problem of p.problems) out.push(`problem: ${p.id}: ${problem}`);
  const s = plan.summary;
  out.push(
    `${s.policies} policies, ${s.matched} functions matched: ${s.compliant} compliant, ${s.drifted} drifted, ${s.overridden} overridden, ${s.infeasible} infeasible`,
  );
  return `${out.join('\n')}\n`;
}

const FIELD_APIS: Record<string, Action['api'][]> = {
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
};

function actionFor(fn: FunctionPlan, field: string): string {
  const apis = FIELD_APIS[field] ?? [];
  const found = [...new Set(fn.actions.filter((a) => apis.includes(a.api)).map((a) => a.api))];
  return found.length > 0 ? found.join('+') : '-';
}
