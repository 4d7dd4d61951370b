/**
 * Progress of a long scan on stderr: one redrawn line with a bar on a terminal, a plain line every few seconds
 * otherwise (CI logs). The bulk pages come first and have no known total, so they are counted; the per-function
 * reads that follow selection have one (`expectReads`), so they get the bar.
 */
import type { CallEvent } from '../aws/index.ts';
import { compareOrdinal } from '../shared/compare.ts';

const PLAIN_EVERY_MS = 2000;
const BAR_WIDTH = 24;
/** The APIs of per-function reads (reserved concurrency, provisioned concurrency, qualifier existence). */
const PER_FUNCTION_APIS = new Set(['GetFunction', 'ListProvisionedConcurrencyConfigs']);

export class Progress {
  private readonly counts = new Map<string, number>();
  private lastDraw = 0;
  private drawn = false;
  private label = 'reading AWS';
  private readsExpected = 0;
  private readsDone = 0;

  private readonly out: NodeJS.WriteStream;
  private readonly now: () => number;

  constructor(out: NodeJS.WriteStream, now: () => number = Date.now) {
    this.out = out;
    this.now = now;
  }

  onCall(call: CallEvent): void {
    this.counts.set(call.api, (this.counts.get(call.api) ?? 0) + 1);
    if (PER_FUNCTION_APIS.has(call.api) && call.outcome !== 'throttled') this.readsDone++;
    this.draw(false);
  }

  /** Announces per-function reads to come (called once per region after selection). */
  expectReads(count: number): void {
    this.readsExpected += count;
    this.draw(true);
  }

  phase(label: string): void {
    this.label = label;
    this.draw(true);
  }

  done(): void {
    if (this.drawn && this.out.isTTY) this.out.write('\n');
    this.drawn = false;
  }

  private line(): string {
    const parts = [...this.counts.entries()].sort(([a], [b]) => compareOrdinal(a, b)).map(([api, n]) => `${api} ${n}`);
    const calls = parts.join(', ') || 'starting';
    if (this.readsExpected === 0) return `${this.label}: ${calls}`;
    // A qualifier check can take two calls: never show more than all of it.
    const done = Math.min(this.readsDone, this.readsExpected);
    const fraction = done / this.readsExpected;
    const reads = `${done}/${this.readsExpected} per-function reads`;
    if (!this.out.isTTY) return `${this.label}: ${reads} (${calls})`;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.round(fraction * 100)}%`;
    return `${this.label} ${bar} ${reads} · ${calls}`;
  }

  private draw(force: boolean): void {
    const t = this.now();
    if (this.out.isTTY) {
      if (!force && t - this.lastDraw < 100) return;
      this.out.write(`\r\x1b[2K${this.line()}`);
    } else {
      if (!force && t - this.lastDraw < PLAIN_EVERY_MS) return;
      this.out.write(`${this.line()}\n`);
    }
    this.lastDraw = t;
    this.drawn = true;
  }
}
