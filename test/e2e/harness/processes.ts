/**
 * Long-running server processes (etcd, kube-apiserver, moto_server) that are always torn down:
 * - each runs in its own process group (detached), and stop() signals the whole group, so helpers it forks die too;
 * - an 'exit' hook of this Node process SIGKILLs every group still running (covers a failed test or a forgotten stop);
 * - a tiny shell watchdog per server kills the group when this Node process disappears without running its
 *   exit hooks (SIGKILL of a vitest worker, a crash).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcessExitedError } from './errors.ts';

export interface StartProcessOptions {
  /** Human name used in errors ("etcd", "kube-apiserver"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr of the server go here (kept for debugging when a test fails). */
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Removed by the watchdog if this Node process dies without stopping the server (a SIGKILLed worker). */
  readonly orphanCleanupDir?: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();
const exitCallbacks = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL to the group is the only thing that is sure to finish.
  process.on('exit', () => {
    for (const managed of live) managed.killNow();
    for (const callback of exitCallbacks) {
      try {
        callback();
      } catch {
        // Best effort while exiting.
      }
    }
  });
}

/** Runs `callback` (synchronously) when this Node process exits; returns a function that cancels it. */
export function onProcessExit(callback: () => void): () => void {
  installExitHook();
  exitCallbacks.add(callback);
  return () => exitCallbacks.delete(callback);
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Resolves when the server exits, whatever the reason. */
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly watchdog: ChildProcess;
  private exitInfo: ExitInfo | undefined;

  private constructor(options: StartProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const log = openSync(options.logFile, 'a');
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', log, log],
      detached: true,
    });
    // The child has its own copy of the descriptor.
    closeSync(log);
    const pid = this.child.pid;
    if (pid === undefined) {
      throw new ProcessExitedError(options.name, null, null, options.logFile, `could not spawn ${options.command}`);
    }
    this.pid = pid;
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolveExit(this.exitInfo);
      });
    });
    this.child.once('error', () => {
      // Reported through the 'exit' event / log; never crash the test run from here.
    });
    // Exits quietly once the server is gone; acts only if this Node process vanished first.
    this.watchdog = spawn(
      'sh',
      [
        '-c',
        'while kill -0 "$1" 2>/dev/null; do kill -0 -"$2" 2>/dev/null || exit 0; sleep 1; done; ' +
          'kill -TERM -"$2" 2>/dev/null; sleep 5; kill -KILL -"$2" 2>/dev/null; ' +
          'if [ -n "$3" ]; then rm -rf -- "$3"; fi; exit 0',
        'lpc-e2e-watchdog',
        String(process.pid),
        String(pid),
        options.orphanCleanupDir ?? '',
      ],
      { detached: true, stdio: 'ignore' },
    );
    this.watchdog.unref();
    live.add(this);
    installExitHook();
  }

  static start(options: StartProcessOptions): ManagedProcess {
    return new ManagedProcess(options);
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines of the server's log, for error messages. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Throws ProcessExitedError if the server is no longer running (used while waiting for readiness). */
  assertRunning(): void {
    if (this.exitInfo !== undefined) {
      throw new ProcessExitedError(this.name, this.exitInfo.code, this.exitInfo.signal, this.logFile, this.logTail());
    }
  }

  /** SIGTERM the process group, SIGKILL it after graceMs, and wait for the exit. Safe to call twice. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitInfo === undefined) {
      signalGroup(this.pid, 'SIGTERM');
      const outcome = await Promise.race([this.exited, sleep(graceMs, 'timeout' as const)]);
      if (outcome === 'timeout') {
        signalGroup(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    // The leader is gone; children it forked may still hold the group.
    signalGroup(this.pid, 'SIGKILL');
    this.stopWatchdog();
    live.delete(this);
  }

  /** Synchronous last resort for the process 'exit' hook. */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
    this.stopWatchdog();
  }

  private stopWatchdog(): void {
    if (this.watchdog.pid !== undefined) signalGroup(this.watchdog.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** How many harness-managed servers are still running in this process (for tests of the teardown). */
export function liveProcessCount(): number {
  return live.size;
}
