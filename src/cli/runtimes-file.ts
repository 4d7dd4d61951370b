/**
 * `--runtimes-file FILE`: a YAML runtime table that replaces the shipped one (the chart can mount one when AWS moves
 * a date before a release ships it). Read once at start; every error names the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { parseRuntimeTable, RuntimeTableError } from '../engine/checks/runtimes.ts';
import type { RuntimeTable } from '../engine/model.ts';

export async function loadRuntimeTable(path: string | undefined): Promise<RuntimeTable | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new RuntimeTableError(path, '<file>', `cannot be read: ${(cause as Error).message}`, { cause });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new RuntimeTableError(path, '<file>', `is not valid YAML: ${(cause as Error).message.split('\n')[0]}`, {
      cause,
    });
  }
  return parseRuntimeTable(doc, path);
}
