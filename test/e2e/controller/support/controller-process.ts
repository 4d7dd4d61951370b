/**
 * `lambda-policy-controller run` as a real child process, exactly as an operator starts it (the npm bin, flags,
 * environment), with its JSON log kept in a file so a failing test can show it. Built on the harness'
 * ManagedProcess: its own process group, killed when the test process exits or dies.
 *
 *   const controller = await ControllerProcess.start({ ... });
 *   await controller.waitForLog('started leading');
 *   await controller.metric('lpc_status_writes_total');
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed, onTestFinished } from 'vitest';
import { REPO_ROOT } from '../../harness/index.ts';
import { ManagedProcess } from '../../harness/processes.ts';
import { waitFor } from './wait.ts';

export const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
export const BIN = join(REPO_ROOT, 'bin', 'lambda-policy-controller.js');

export interface ControllerProcessOptions {
  /** Label in logs and failure output ("leader-a"). */
  readonly name: string;
  readonly kubeconfig: string;
  readonly awsEndpoint: string;
  /** Default eu-central-1,us-east-1. */
  readonly regions?: readonly string[];
  /** `--namespace`: watch only this namespace (default: all). */
  readonly namespace?: string;
  /** `--leader-elect --leader-election-namespace <ns>`. */
  readonly leaderElectionNamespace?: string;
  /** `--leader-election-id`: the Lease's name (default: the controller's). */
  readonly leaderElectionId?: string;
  /** AWS_ACCESS_KEY_ID of this process: the emulator's write log tells who wrote by it. Default = name. */
  readonly accessKeyId?: string;
  /** More `run` flags (e.g. `--dry-run`). */
  readonly extraArgs?: readonly string[];
}

/** One JSON log line of pino. */
export interface LogEntry {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ControllerProcess {
  readonly name: string;
  readonly accessKeyId: string;
  readonly process: ManagedProcess;
  /** The leader-election identity the controller uses (`hostname_pid`), as it logged it at start. */
  identity = '';
  private endpoints: { health: string; metrics: string } | undefined;

  private constructor(name: string, accessKeyId: string, process: ManagedProcess) {
    this.name = name;
    this.accessKeyId = accessKeyId;
    this.process = process;
  }

  /**
   * Starts the controller and waits until it listens (its "controller starting" line). Inside a test it is
   * stopped when the test ends, and its log is printed when the test fails.
   */
  static async start(options: ControllerProcessOptions): Promise<ControllerProcess> {
    const workDir = mkdtempSync(join(tmpdir(), `lpc-controller-${options.name}-`));
    const accessKeyId = options.accessKeyId ?? options.name;
    const args = [
      BIN,
      'run',
      '--kubeconfig',
      options.kubeconfig,
      '--regions',
      (options.regions ?? ['eu-central-1', 'us-east-1']).join(','),
      '--aws-endpoint',
      options.awsEndpoint,
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
      ...(options.namespace ? ['--namespace', options.namespace] : []),
      ...(options.leaderElectionNamespace
        ? ['--leader-elect', '--leader-election-namespace', options.leaderElectionNamespace]
        : []),
      ...(options.leaderElectionId ? ['--leader-election-id', options.leaderElectionId] : []),
      ...(options.extraArgs ?? []),
    ];
    const managed = ManagedProcess.start({
      name: `controller ${options.name}`,
      command: NODE,
      args,
      cwd: REPO_ROOT,
      logFile: join(workDir, 'controller.log'),
      env: {
        LOG_LEVEL: 'debug',
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'x',
        // Nothing from the developer's machine may leak in (profiles, a real region).
        AWS_PROFILE: '',
        AWS_SESSION_TOKEN: '',
        AWS_REGION: '',
        AWS_DEFAULT_REGION: '',
      },
    });
    const controller = new ControllerProcess(options.name, accessKeyId, managed);
    try {
      onTestFailed(() => {
        console.log(
          `----- log of controller ${controller.name} (pid ${managed.pid}, ${managed.logFile}) -----\n${controller.log()}`,
        );
      });
      onTestFinished(async (context) => {
        await controller.stop();
        // Kept when the test failed (its path is in the printed log header), removed otherwise.
        if (context.task.result?.state !== 'fail') rmSync(workDir, { recursive: true, force: true });
      });
    } catch {
      // Started outside a test (beforeAll): the caller stops it.
    }
    try {
      const starting = await controller.waitForLog('controller starting', 60_000);
      controller.endpoints = { health: String(starting.health), metrics: String(starting.metrics) };
      controller.identity = String(starting.identity);
    } catch (error) {
      await controller.stop();
      throw new Error(`controller ${options.name} did not start:\n${controller.log()}`, { cause: error });
    }
    return controller;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Everything the process wrote so far (pino JSON lines, plus any stderr). */
  log(): string {
    try {
      return readFileSync(this.process.logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  /** The JSON log lines (non-JSON lines are skipped). */
  entries(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const line of this.log().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogEntry);
      } catch {
        // A line being written right now.
      }
    }
    return out;
  }

  /** Waits for a log line with this message; fails fast when the process exits first. */
  waitForLog(msg: string, timeoutMs = 60_000): Promise<LogEntry> {
    return waitFor(
      `controller ${this.name} to log "${msg}"`,
      () => {
        const found = this.entries().find((e) => e.msg === msg);
        if (found) return found;
        this.process.assertRunning();
        return undefined;
      },
      { timeoutMs },
    );
  }

  private urls(): { health: string; metrics: string } {
    if (!this.endpoints) throw new Error(`controller ${this.name} has not started`);
    return this.endpoints;
  }

  /** GET /readyz: 200 when the watcher has synced (leader or standby). */
  async ready(): Promise<boolean> {
    const res = await fetch(`${this.urls().health}/readyz`);
    await res.text();
    return res.status === 200;
  }

  async metrics(): Promise<MetricSample[]> {
    const res = await fetch(`${this.urls().metrics}/metrics`);
    return parsePrometheusText(await res.text());
  }

  /** Sum of every series of `name` whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const samples = await this.metrics();
    return samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  }

  /** Sends a signal to the controller's process group (SIGKILL: a crashed pod; SIGTERM: a rolling update). */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.process.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM (graceful: releases the lease), SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void> {
    return this.process.stop(15_000);
  }
}

/** The Prometheus text exposition format, as prom-client writes it (no timestamps, no escaped quotes needed). */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}
