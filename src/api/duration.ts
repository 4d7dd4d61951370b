/**
 * Go duration strings (`1h30m`, `90s`, `1.5m`, `250ms`), the syntax Kubernetes users know from every controller's
 * interval field and the one CEL's `duration()` reads, so the API server and the CLI agree on what `interval` means.
 */

export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
  readonly code = 'DurationSyntax';
  readonly input: string;

  constructor(input: string) {
    super(`invalid duration "${input}": expected a Go duration such as 30s, 5m or 1h30m`);
    this.input = input;
  }
}

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const PART = /([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parses a Go duration into seconds (fractional where the duration has sub-second parts). Throws DurationSyntaxError. */
export function parseGoDuration(input: string): number {
  let text = input;
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    sign = text.startsWith('-') ? -1 : 1;
    text = text.slice(1);
  }
  if (text === '0') return 0;
  if (text === '') throw new DurationSyntaxError(input);
  let total = 0;
  let offset = 0;
  while (offset < text.length) {
    PART.lastIndex = offset;
    const match = PART.exec(text);
    const number = match?.[1];
    const unit = match?.[2];
    // Go requires digits on at least one side of the point: ".5s" and "5.s" are fine, "." is not.
    if (!match || number === undefined || unit === undefined || number === '' || number === '.') {
      throw new DurationSyntaxError(input);
    }
    total += Number(number) * (UNIT_SECONDS[unit] ?? 0);
    offset = PART.lastIndex;
  }
  // Rounded to the nanosecond, so 1.1s is 1.1 and not 1.1000000000000001.
  return sign * (Math.round(total * 1e9) / 1e9);
}
