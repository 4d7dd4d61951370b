/** Go-style durations as `spec.interval` allows them (`30s`, `5m`, `1h30m`, `1.5h`, `250ms`). */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {
  override readonly name = 'DurationError';
  readonly code = 'InvalidDuration';
}

export function parseDurationMs(text: string): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new DurationError(`invalid duration ${JSON.stringify(text)}`);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (pos === 0) throw new DurationError(`invalid duration ${JSON.stringify(text)}`);
  return total;
}

/** The policy's check interval: default 5m, never below 30s (the CRD enforces the minimum too). */
export function intervalMs(interval: string | undefined): number {
  const ms = interval === undefined ? 300_000 : parseDurationMs(interval);
  return Math.max(ms, 30_000);
}
