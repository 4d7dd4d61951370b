/** Typed errors of the e2e harness: each carries a discriminating `code` and, where there is one, a `cause`. */

export type TestInfraErrorCode =
  | 'TEST_INFRA_MISSING'
  | 'TOOL_MISSING'
  | 'COMMAND_FAILED'
  | 'PROCESS_EXITED'
  | 'NOT_READY';

export class TestInfraError extends Error {
  override readonly name: string = 'TestInfraError';
  readonly code: TestInfraErrorCode;

  constructor(code: TestInfraErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The pinned binaries are not in the cache: the fix is always to run hack/ensure-test-infra.sh. */
export class TestInfraMissingError extends TestInfraError {
  override readonly name = 'TestInfraMissingError';
  readonly binDir: string;
  readonly missing: readonly string[];

  constructor(binDir: string, missing: readonly string[]) {
    super(
      'TEST_INFRA_MISSING',
      `test infrastructure is not built: ${missing.join(', ')} missing in ${binDir}. ` +
        'Run hack/ensure-test-infra.sh (builds kube-apiserver, kubectl, etcd, helm and moto into the cache; ' +
        'the first build takes a while).',
    );
    this.binDir = binDir;
    this.missing = missing;
  }
}

/** A host tool the harness needs (e.g. openssl) is not installed. */
export class ToolMissingError extends TestInfraError {
  override readonly name = 'ToolMissingError';
  readonly tool: string;

  constructor(tool: string, hint: string, cause?: unknown) {
    super('TOOL_MISSING', `${tool} is required by the e2e harness but could not be run: ${hint}`, { cause });
    this.tool = tool;
  }
}

/** A command (kubectl, helm, openssl, ...) exited non-zero while the caller expected success. */
export class CommandFailedError extends TestInfraError {
  override readonly name = 'CommandFailedError';
  readonly command: string;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(command: string, args: readonly string[], exitCode: number | null, stdout: string, stderr: string) {
    const shown = [command, ...args].join(' ');
    super(
      'COMMAND_FAILED',
      `command failed (exit ${exitCode ?? 'signal'}): ${shown}\n${stderr.trim() || stdout.trim()}`,
    );
    this.command = command;
    this.args = args;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/** A server process (etcd, kube-apiserver, moto) died while it was expected to run. */
export class ProcessExitedError extends TestInfraError {
  override readonly name = 'ProcessExitedError';
  readonly processName: string;
  readonly logTail: string;

  constructor(processName: string, exitCode: number | null, signal: string | null, logFile: string, logTail: string) {
    super(
      'PROCESS_EXITED',
      `${processName} exited early (code ${exitCode ?? '-'}, signal ${signal ?? '-'}); log ${logFile}:\n${logTail}`,
    );
    this.processName = processName;
    this.logTail = logTail;
  }
}

/** A server did not become ready in time. */
export class NotReadyError extends TestInfraError {
  override readonly name = 'NotReadyError';

  constructor(what: string, timeoutMs: number, lastProblem: unknown) {
    super('NOT_READY', `${what} was not ready after ${timeoutMs} ms (last problem: ${describe(lastProblem)})`, {
      cause: lastProblem,
    });
  }
}

function describe(problem: unknown): string {
  if (problem instanceof Error) return problem.message;
  return String(problem);
}
