/**
 * The runtime table: validated from plain data (the shipped rows or a parsed override file), and the runtime
 * check over it. Pure: reading the override file is the caller's business; errors name the file and the field.
 */
import type { Architecture, RuntimeEntry, RuntimeTable } from '../model.ts';
import { RUNTIME_ROWS, RUNTIME_TABLE_SOURCE } from './runtime-data.ts';

/** The runtime families Lambda has shipped; an identifier outside them is a typo, not a runtime. */
export const RUNTIME_FAMILIES = ['nodejs', 'python', 'java', 'dotnet', 'dotnetcore', 'ruby', 'go', 'provided'] as const;
const IDENTIFIER = /^(nodejs|python|java|dotnetcore|dotnet|ruby|go|provided)([0-9][0-9a-z.]*|\.al[0-9]+)?(\.x|-edge)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class RuntimeTableError extends Error {
  override readonly name = 'RuntimeTableError';
  readonly code = 'InvalidRuntimeTable';
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${field}: ${message}`, options);
    this.file = file;
    this.field = field;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function day(value: unknown, file: string, field: string): string {
  if (typeof value !== 'string' || !DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new RuntimeTableError(file, field, `must be a date written YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a runtime table document: `{ source?: string, runtimes: [{ identifier, deprecation, blockCreate?,
 * blockUpdate?, successor?, architectures? }] }`. Identifiers must look like Lambda runtime identifiers (family + version) and be
 * unique; a successor must be a runtime of the same table; block dates must not precede the deprecation.
 */
export function parseRuntimeTable(doc: unknown, file: string): RuntimeTable {
  if (!isRecord(doc)) throw new RuntimeTableError(file, '<root>', 'must be a mapping with a runtimes list');
  for (const key of Object.keys(doc)) {
    if (key !== 'source' && key !== 'runtimes') throw new RuntimeTableError(file, key, 'unknown field');
  }
  if (doc.source !== undefined && typeof doc.source !== 'string') {
    throw new RuntimeTableError(file, 'source', 'must be a string (the page the dates come from)');
  }
  if (!Array.isArray(doc.runtimes) || doc.runtimes.length === 0) {
    throw new RuntimeTableError(file, 'runtimes', 'must be a non-empty list');
  }
  const runtimes = new Map<string, RuntimeEntry>();
  const successors: { field: string; value: string }[] = [];
  doc.runtimes.forEach((raw: unknown, i) => {
    const at = `runtimes[${i}]`;
    if (!isRecord(raw)) throw new RuntimeTableError(file, at, 'must be a mapping');
    for (const key of Object.keys(raw)) {
      if (!['identifier', 'deprecation', 'blockCreate', 'blockUpdate', 'successor', 'architectures'].includes(key)) {
        throw new RuntimeTableError(file, `${at}.${key}`, 'unknown field');
      }
    }
    const id = raw.identifier;
    if (typeof id !== 'string' || !IDENTIFIER.test(id)) {
      throw new RuntimeTableError(
        file,
        `${at}.identifier`,
        `unknown runtime name ${JSON.stringify(id)}: must be a Lambda runtime identifier such as nodejs22.x or python3.13 (families: ${RUNTIME_FAMILIES.join(', ')})`,
      );
    }
    if (runtimes.has(id)) throw new RuntimeTableError(file, `${at}.identifier`, `duplicate runtime ${id}`);
    const entry: RuntimeEntry = { identifier: id, deprecation: day(raw.deprecation, file, `${at}.deprecation`) };
    for (const key of ['blockCreate', 'blockUpdate'] as const) {
      if (raw[key] === undefined) continue;
      const value = day(raw[key], file, `${at}.${key}`);
      if (value < entry.deprecation) {
        throw new RuntimeTableError(
          file,
          `${at}.${key}`,
          `${value} is before the deprecation date ${entry.deprecation}`,
        );
      }
      entry[key] = value;
    }
    if (raw.architectures !== undefined) {
      const archs: unknown = raw.architectures;
      if (
        !Array.isArray(archs) ||
        archs.length === 0 ||
        archs.some((a) => a !== 'x86_64' && a !== 'arm64') ||
        new Set(archs).size !== archs.length
      ) {
        throw new RuntimeTableError(file, `${at}.architectures`, 'must list x86_64 and/or arm64, each once');
      }
      entry.architectures = [...(archs as Architecture[])];
    }
    if (raw.successor !== undefined) {
      if (typeof raw.successor !== 'string') throw new RuntimeTableError(file, `${at}.successor`, 'must be a string');
      successors.push({ field: `${at}.successor`, value: raw.successor });
      entry.successor = raw.successor;
    }
    runtimes.set(id, entry);
  });
  for (const s of successors) {
    if (!runtimes.has(s.value)) {
      throw new RuntimeTableError(file, s.field, `unknown runtime name ${JSON.stringify(s.value)}: not in this table`);
    }
  }
  return { source: typeof doc.source === 'string' ? doc.source : file, runtimes };
}

let shipped: RuntimeTable | undefined;

/** The table shipped with the engine (validated once, with the same rules as an override file). */
export function shippedRuntimeTable(): RuntimeTable {
  shipped ??= parseRuntimeTable({ source: RUNTIME_TABLE_SOURCE, runtimes: RUNTIME_ROWS }, 'shipped runtime table');
  return shipped;
}

const DAY_MS = 86_400_000;

/**
 * The runtime check: a message when the runtime is deprecated at `now` + `withinDays` (or already), else
 * undefined. A runtime the table does not list (a newer or a custom one) is not judged.
 */
export function runtimeDeprecation(
  runtime: string | undefined,
  withinDays: number,
  now: Date,
  table: RuntimeTable,
): string | undefined {
  if (runtime === undefined) return undefined;
  const entry = table.runtimes.get(runtime);
  if (!entry) return undefined;
  const deprecatedAt = Date.parse(`${entry.deprecation}T00:00:00Z`);
  if (deprecatedAt > now.getTime() + withinDays * DAY_MS) return undefined;
  const past = deprecatedAt <= now.getTime();
  const days = Math.ceil((deprecatedAt - now.getTime()) / DAY_MS);
  const when = past ? `deprecated since ${entry.deprecation}` : `deprecated on ${entry.deprecation} (in ${days} days)`;
  const blocks = [
    entry.blockCreate ? `creates blocked from ${entry.blockCreate}` : '',
    entry.blockUpdate ? `updates blocked from ${entry.blockUpdate}` : '',
  ].filter((b) => b !== '');
  const successor = entry.successor ? `; move to ${entry.successor}` : '';
  return `${runtime} is ${when}${blocks.length > 0 ? `, ${blocks.join(', ')}` : ''}${successor}`;
}

/**
 * Why `runtime` cannot run on `architecture`, or undefined when it can (or the table does not list the runtime:
 * a newer or custom one is not judged).
 */
export function runtimeArchitectureProblem(
  runtime: string | undefined,
  architecture: Architecture,
  table: RuntimeTable,
): string | undefined {
  if (runtime === undefined) return undefined;
  const archs = table.runtimes.get(runtime)?.architectures;
  if (archs === undefined || archs.includes(architecture)) return undefined;
  return `runtime ${runtime} runs on ${archs.join(', ')} only, not ${architecture}`;
}
