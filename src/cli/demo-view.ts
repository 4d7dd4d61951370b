/**
 * The demo's live view: per region what the last pass found and fixed, per policy its status (the same status the
 * controller writes to Kubernetes), and the latest events. Redrawn in place on a terminal; on a pipe, one line per
 * pass and the full view at the end.
 */

import type { MemoryStatusSink } from '../controller/memory-sink.ts';
import type { PassResult } from '../reconcile/pass.ts';
import { compareOrdinal } from '../shared/compare.ts';

interface RegionLine {
  passes: number;
  functions: number;
  matched: number;
  drifted: number;
  actions: number;
  applied: number;
  failed: number;
  at: Date;
}

export interface DemoViewOptions {
  emulatorUrl: string;
  policyPaths: string[];
  sink: MemoryStatusSink;
}

export class DemoView {
  private readonly out: NodeJS.WriteStream;
  private readonly options: DemoViewOptions;
  private readonly regions = new Map<string, RegionLine>();
  private policyErrors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private totalApplied = 0;

  constructor(out: NodeJS.WriteStream, options: DemoViewOptions) {
    this.out = out;
    this.options = options;
  }

  start(): void {
    if (this.out.isTTY) this.timer = setInterval(() => this.render(), 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  onPolicyErrors(errors: string[]): void {
    this.policyErrors = errors;
    if (!this.out.isTTY) for (const e of errors) this.out.write(`policy error: ${e}\n`);
  }

  onPass(region: string, pass: PassResult): void {
    const before = this.regions.get(region);
    const snapshot = pass.fleet.regions.find((r) => r.region === region);
    const applied = pass.executions.reduce((n, e) => n + e.outcomes.filter((o) => o.status === 'applied').length, 0);
    const failed = pass.executions.filter((e) => !e.ok).length;
    this.totalApplied += applied;
    const line: RegionLine = {
      passes: (before?.passes ?? 0) + 1,
      functions: snapshot?.functions.length ?? 0,
      matched: pass.plan.functions.length,
      drifted: pass.plan.functions.filter((f) => !f.compliant).length,
      actions: pass.plan.functions.reduce((n, f) => n + f.actions.length, 0),
      applied,
      failed,
      at: pass.plan.now,
    };
    this.regions.set(region, line);
    if (!this.out.isTTY) this.out.write(`${regionText(region, line)}\n`);
  }

  render(): void {
    const lines: string[] = [];
    lines.push('lambda-policy-controller demo');
    lines.push(
      `  AWS emulator ${this.options.emulatorUrl}   policies ${this.options.policyPaths.join(', ')} (edit them: changes apply live)`,
    );
    lines.push('');
    for (const [region, line] of [...this.regions].sort(([a], [b]) => compareOrdinal(a, b)))
      lines.push(regionText(region, line));
    lines.push(`  ${this.totalApplied} changes written to AWS so far`);
    lines.push('');
    lines.push(
      pad(['POLICY', 'READY', 'MATCHED', 'COMPLIANT', 'DRIFTED', 'REMEDIATED', 'OVERRIDDEN', 'INFEASIBLE', 'PC $/MO']),
    );
    for (const [id, status] of [...this.options.sink.statuses].sort(([a], [b]) => compareOrdinal(a, b))) {
      const s = status.summary;
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      lines.push(
        pad([
          id,
          ready ? `${ready.status} (${ready.reason})` : '-',
          String(s?.matched ?? 0),
          String(s?.compliant ?? 0),
          String(s?.drifted ?? 0),
          String(s?.remediated ?? 0),
          String(s?.overridden ?? 0),
          String(s?.infeasible ?? 0),
          status.cost?.provisionedConcurrencyMonthlyUSD !== undefined
            ? status.cost.provisionedConcurrencyMonthlyUSD.toFixed(2)
            : '-',
        ]),
      );
    }
    const events = this.options.sink.events.slice(-8);
    if (events.length > 0) {
      lines.push('', 'recent events:');
      const width = this.out.columns && this.out.columns > 40 ? this.out.columns : Number.POSITIVE_INFINITY;
      for (const e of events) {
        const line = `  ${e.at.toISOString().slice(11, 19)} ${e.type} ${e.reason} ${e.policy}: ${e.note}`;
        lines.push(line.length > width ? `${line.slice(0, width - 1)}…` : line);
      }
    }
    for (const e of this.policyErrors) lines.push(`policy error: ${e}`);
    const text = `${lines.join('\n')}\n`;
    this.out.write(this.out.isTTY ? `\x1b[H\x1b[2J${text}` : text);
  }
}

function regionText(region: string, l: RegionLine): string {
  return `  ${region.padEnd(14)} pass ${String(l.passes).padStart(3)}  ${l.functions} functions, ${l.matched} matched, ${l.drifted} drifted, ${l.actions} actions planned, ${l.applied} applied${l.failed ? `, ${l.failed} failed` : ''}`;
}

const WIDTHS = [30, 24, 8, 10, 8, 11, 11, 11, 8];

function pad(cells: string[]): string {
  return cells
    .map((c, i) => c.padEnd(WIDTHS[i] ?? 8))
    .join('')
    .trimEnd();
}
