/**
 * Runs Argo CD health scripts with a real Lua 5.1 interpreter (Argo CD embeds gopher-lua, a Lua 5.1): the object
 * becomes the global `obj`, as Argo CD sets it, and the script's returned table is read back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LUA = 'lua5.1';

/** Whether `lua5.1` can be run here (installed with `apt-get install -y lua5.1`). */
export function luaAvailable(): boolean {
  const probe = spawnSync(LUA, ['-v'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
}

export interface HealthStatus {
  status: string;
  message: string;
}

/** A JSON-like value as a Lua table constructor (1-based arrays, string keys, byte-escaped strings). */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (value instanceof Date) return luaString(value.toISOString());
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value).map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new TypeError(`cannot express ${typeof value} in Lua`);
}

function luaString(text: string): string {
  // Decimal byte escapes for everything outside printable ASCII: Lua 5.1 has no \u escapes.
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte >= 0x20 && byte < 0x7f && ch !== '"' && ch !== '\\') out += ch;
    else out += `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * Evaluates the health script once per object in ONE interpreter (cheap enough for property tests); each run gets
 * a fresh global `obj` and a fresh load of the script, like Argo CD.
 */
export function runHealthScript(scriptPath: string, objects: readonly unknown[]): HealthStatus[] {
  const lines = [
    `local path = ${luaString(scriptPath)}`,
    'local function field(v) return (string.gsub(tostring(v), "[%c\\\\]", function(c) return string.format("\\\\%03d", string.byte(c)) end)) end',
  ];
  for (const object of objects) {
    lines.push(
      `obj = ${toLua(object)}`,
      'do',
      '  local hs = assert(loadfile(path))()',
      '  io.write(field(hs.status), "\\t", field(hs.message), "\\n")',
      'end',
    );
  }
  // From a file, not stdin: a script error then shows on stderr instead of as EPIPE.
  const dir = mkdtempSync(join(tmpdir(), 'lpc-lua-'));
  const driver = join(dir, 'driver.lua');
  writeFileSync(driver, lines.join('\n'));
  const run = spawnSync(LUA, [driver], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  rmSync(dir, { recursive: true, force: true });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`${LUA} exited ${run.status}: ${run.stderr}`);
  const results = run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [status = '', message = ''] = line.split('\t');
      return { status: decodeField(status), message: decodeField(message) };
    });
  if (results.length !== objects.length) throw new Error(`expected ${objects.length} results: ${run.stdout}`);
  return results;
}

function decodeField(text: string): string {
  return text.replace(/\\(\d{3})/g, (_, code: string) => String.fromCharCode(Number(code)));
}
