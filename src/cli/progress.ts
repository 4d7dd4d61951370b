/**
 * Progress of a long scan on stderr: one redrawn line on a terminal, a plain line every few seconds otherwise (CI
 * logs). Counts AWS calls by API as they complete, which is what a long scan is made of.
 */
import type { CallEvent } from '../aws/index.ts';

const PLAIN_EVERY_MS = 2000;

export class Progress {
  private readonly counts = new Map<string, number>();
  private lastDraw = 0;
  private drawn = false;
  private label = 'reading AWS';

  private readonly out: NodeJS.WriteStream;
  private readonly now: () => number;

  constructor(out: NodeJS.WriteStream, now: () => number = Date.now) {
    this.out = out;
    this.now = now;
  }

  onCall(call: CallEvent): void {
    this.counts.set(call.api, (this.counts.get(call.api) ?? 0) + 1);
    this.draw(false);
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
    const parts = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([api, n]) => `${api} ${n}`);
    return `${this.label}: ${parts.join(', ') || 'starting'}`;
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
