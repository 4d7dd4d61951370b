/**
 * Policies from files and directories (`plan -f`, `apply -f`, the demo): `.yaml`/`.yml` files, multi-document,
 * each document validated with the same rules as the API server (src/api/parse.ts). Directories are read one
 * level deep, like `kubectl apply -f DIR` (hidden files skipped), in name order so results never depend on the
 * file system's listing order.
 *
 * FilePolicySource adds a watch mode: file system events are debounced, the files re-read, and the new set
 * emitted only when the declared policies actually changed. A re-read with errors keeps the last good set and
 * reports the errors, so a half-saved file never makes policies vanish from a running demo.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parsePolicies } from '../api/parse.ts';
import { readPolicyFile } from '../api/policy-files.ts';
import { Listeners, type PolicySet, type PolicySource, samePolicies, sortPolicies } from '../api/policy-set.ts';
import type { LambdaPolicy } from '../api/schema.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';
import { objectKey } from '../shared/keys.ts';

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml']);

export interface LoadOptions {
  /** Descend into sub-directories. Default false (like kubectl without -R). */
  recursive?: boolean;
}

/** The files `paths` stand for, sorted, each once. Missing paths are reported, not thrown. */
export async function policyFiles(
  paths: readonly string[],
  options: LoadOptions = {},
): Promise<{ files: string[]; errors: string[] }> {
  const files = new Set<string>();
  const errors: string[] = [];
  const visit = async (path: string, depth: number): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      errors.push(
        `${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(error)}`,
      );
      return;
    }
    if (info.isDirectory()) {
      if (depth > 0 && !options.recursive) return;
      const entries = (await readdir(path)).filter((e) => !e.startsWith('.')).sort();
      for (const entry of entries) {
        const child = join(path, entry);
        const childInfo = await stat(child).catch(() => undefined);
        if (childInfo?.isDirectory()) await visit(child, depth + 1);
        else if (POLICY_EXTENSIONS.has(extname(entry).toLowerCase())) files.add(child);
      }
      return;
    }
    files.add(path);
  };
  for (const path of paths) await visit(path, 0);
  return { files: [...files].sort(), errors };
}

/** Reads and validates every policy the paths hold. Never throws for bad input: problems land in `errors`. */
export async function loadPolicyFiles(paths: readonly string[], options: LoadOptions = {}): Promise<PolicySet> {
  const { files, errors } = await policyFiles(paths, options);
  const seen = new Map<string, string>();
  const policies: LambdaPolicy[] = [];
  const tenancy: NonNullable<PolicySet['tenancy']> = { accounts: [], namespaces: [] };
  for (const file of files) {
    let text: string;
    try {
      text = await readPolicyFile(file);
    } catch (error) {
      errors.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const parsed = parsePolicies(text, file);
    errors.push(...parsed.errors.map((e) => e.message));
    tenancy.accounts.push(...parsed.accounts);
    tenancy.namespaces.push(...parsed.namespaces);
    for (const { policy, docIndex } of parsed.policies) {
      const key = objectKey(policy);
      const where = `${file}#${docIndex}`;
      const first = seen.get(key);
      if (first !== undefined) {
        errors.push(`${where} ${key}: declared twice (first in ${first})`);
        continue;
      }
      seen.set(key, where);
      policies.push(policy);
    }
  }
  if (files.length === 0 && errors.length === 0) errors.push(`no .yaml/.yml files in ${paths.join(', ')}`);
  const hasTenancy = tenancy.accounts.length > 0 || tenancy.namespaces.length > 0;
  return { policies: sortPolicies(policies), errors, ...(hasTenancy ? { tenancy } : {}) };
}

export interface FilePolicySourceOptions extends LoadOptions {
  /** Quiet time after the last file system event before re-reading (ms). Default 200. */
  debounceMs?: number;
  /** Times the debounce; a fake one keeps file system events from re-reading until the test moves time. */
  clock?: Clock;
}

export class FilePolicySource implements PolicySource {
  private readonly paths: string[];
  private readonly options: FilePolicySourceOptions;
  private readonly changes = new Listeners<PolicySet>();
  private readonly errorListeners = new Listeners<string[]>();
  private set: PolicySet = { policies: [], errors: [] };
  private watchers: FSWatcher[] = [];
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Completed re-reads (tests use it to wait for quiet). */
  reloads = 0;

  constructor(paths: readonly string[], options: FilePolicySourceOptions = {}) {
    this.paths = paths.map((p) => resolve(p));
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  current(): PolicySet {
    return this.set;
  }

  onChange(listener: (set: PolicySet) => void): () => void {
    return this.changes.add(listener);
  }

  onError(listener: (errors: string[]) => void): () => void {
    return this.errorListeners.add(listener);
  }

  /** Loads the files once (errors and all) and starts watching them. */
  async start(): Promise<void> {
    this.stopped = false;
    this.set = await loadPolicyFiles(this.paths, this.options);
    await this.watchPaths();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.reloading;
  }

  /** Re-reads now (what a file system event triggers after the debounce). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        const next = await loadPolicyFiles(this.paths, this.options);
        if (this.stopped) return;
        this.reloads++;
        if (next.errors.length > 0) {
          // Keep the last good policies; surface the problems.
          this.set = { policies: this.set.policies, errors: next.errors };
          this.errorListeners.emit(next.errors);
          continue;
        }
        const changed = !samePolicies(this.set.policies, next.policies);
        this.set = next;
        if (changed) this.changes.emit(next);
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 200);
  }

  /**
   * Watches directories, not files: editors save by writing a new file and renaming it over the old one, which
   * ends a watch on the old file's inode. A file argument is watched through its directory, filtered by name.
   */
  private async watchPaths(): Promise<void> {
    const dirs = new Map<string, Set<string> | 'all'>();
    for (const path of this.paths) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory()) dirs.set(path, 'all');
      else {
        const dir = dirname(path);
        const current = dirs.get(dir);
        if (current === 'all') continue;
        const names = current ?? new Set<string>();
        names.add(basename(path));
        dirs.set(dir, names);
      }
    }
    for (const [dir, names] of dirs) {
      try {
        const watcher = watch(
          dir,
          { persistent: false, recursive: this.options.recursive ?? false },
          (_event, file) => {
            const name = file === null ? undefined : basename(String(file));
            if (names === 'all' || name === undefined || names.has(name)) this.schedule();
          },
        );
        watcher.on('error', () => this.schedule());
        this.watchers.push(watcher);
      } catch (error) {
        this.errorListeners.emit([`cannot watch ${dir}: ${error instanceof Error ? error.message : String(error)}`]);
      }
    }
  }
}
