/** Runs a command to completion and collects its output (kubectl, helm, openssl). */
import { spawn } from 'node:child_process';
import { CommandFailedError, ToolMissingError } from './errors.ts';

export interface RunOptions {
  /** Written to the command's stdin (e.g. a manifest for `kubectl apply -f -`). */
  readonly input?: string;
  /** Extra environment variables, merged over process.env. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * true (default): reject with CommandFailedError on a non-zero exit.
   * false: resolve with the exit code, for tests that expect a rejection (e.g. an invalid manifest).
   */
  readonly check?: boolean;
  /** Kill the command after this long; a safety net against a hung command, not a performance check. */
  readonly timeoutMs?: number;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(new ToolMissingError(command, 'not found (is it installed and on PATH?)', error));
      } else {
        reject(error);
      }
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const result = {
        exitCode,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (exitCode !== 0 && options.check !== false) {
        reject(new CommandFailedError(command, args, exitCode, result.stdout, result.stderr));
      } else {
        resolvePromise(result);
      }
    });
    // A command that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
