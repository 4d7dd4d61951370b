/**
 * Plays one job of a GitHub Actions workflow on this machine, the way a runner does for the parts that matter to a
 * recipe: `run:` steps in `bash --noprofile --norc -eo pipefail`, workflow/job/step `env`, `${{ }}` expressions
 * over env, github and steps outputs, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, `$RUNNER_TEMP`, and the rule that a
 * failed step skips the rest unless they say `if: always()`. `uses:` steps (checkout, setup-node, credentials)
 * are recorded as skipped: the test provides what they would (the workspace, node, an AWS endpoint).
 * Anything else in an expression or an `if:` is refused, so the recipe cannot silently rely on something not played.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
}

interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
}

export interface PlayOptions {
  workflowPath: string;
  job: string;
  /** The checkout: steps run here. */
  workspace: string;
  /** Replaces workflow/job env values (e.g. LPC: the CLI of this checkout). */
  env?: Record<string, string>;
  /** The `github` context: `github.token`, `github.event.pull_request.number`, … */
  github?: Record<string, unknown>;
}

export interface StepResult {
  name: string;
  outcome: 'success' | 'failure' | 'skipped';
  exitCode?: number;
  stdout: string;
  stderr: string;
}

export interface PlayResult {
  steps: StepResult[];
  outputs: Record<string, Record<string, string>>;
  summary: string;
  conclusion: 'success' | 'failure';
}

function lookup(path: string, root: unknown): unknown {
  let value: unknown = root;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function evaluate(
  text: string,
  env: Record<string, string>,
  github: Record<string, unknown>,
  outputs: Record<string, Record<string, string>>,
): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_all, expr: string) => {
    const steps = expr.match(/^steps\.([\w-]+)\.outputs\.([\w-]+)$/);
    if (steps) return outputs[steps[1] ?? '']?.[steps[2] ?? ''] ?? '';
    if (expr.startsWith('env.')) return env[expr.slice(4)] ?? '';
    if (expr.startsWith('github.')) return String(lookup(expr.slice(7), github) ?? '');
    throw new Error(`the workflow player does not evaluate \${{ ${expr} }}`);
  });
}

function parseOutputs(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

export function playWorkflow(options: PlayOptions): PlayResult {
  const workflow = parse(readFileSync(options.workflowPath, 'utf8')) as Workflow;
  const job = workflow.jobs[options.job];
  if (!job) throw new Error(`no job ${options.job} in ${options.workflowPath}`);
  const github = { token: 'test-token', ...(options.github ?? {}) };
  const temp = mkdtempSync(join(tmpdir(), 'lpc-runner-'));
  const summaryPath = join(temp, 'step-summary.md');
  writeFileSync(summaryPath, '');
  const outputs: Record<string, Record<string, string>> = {};
  const steps: StepResult[] = [];
  let failed = false;
  try {
    const base: Record<string, string> = { ...(workflow.env ?? {}), ...(job.env ?? {}), ...(options.env ?? {}) };
    job.steps.forEach((step, index) => {
      const name = step.name ?? step.uses ?? `step ${index}`;
      const condition = step.if?.trim();
      if (condition !== undefined && condition !== 'always()')
        throw new Error(`the workflow player does not evaluate if: ${condition}`);
      const runs = step.run !== undefined && (!failed || condition === 'always()');
      if (!runs) {
        steps.push({ name, outcome: 'skipped', stdout: '', stderr: '' });
        return;
      }
      const env: Record<string, string> = { ...base };
      for (const [key, value] of Object.entries(step.env ?? {}))
        env[key] = evaluate(String(value), base, github, outputs);
      const outputPath = join(temp, `output-${index}`);
      writeFileSync(outputPath, '');
      const scriptPath = join(temp, `step-${index}.sh`);
      writeFileSync(scriptPath, evaluate(step.run ?? '', base, github, outputs));
      const run = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptPath], {
        cwd: options.workspace,
        env: {
          ...process.env,
          ...env,
          GITHUB_OUTPUT: outputPath,
          GITHUB_STEP_SUMMARY: summaryPath,
          RUNNER_TEMP: temp,
          GITHUB_WORKSPACE: options.workspace,
        },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (run.error) throw run.error;
      const exitCode = run.status ?? -1;
      if (step.id) outputs[step.id] = parseOutputs(outputPath);
      if (exitCode !== 0) failed = true;
      steps.push({
        name,
        outcome: exitCode === 0 ? 'success' : 'failure',
        exitCode,
        stdout: run.stdout,
        stderr: run.stderr,
      });
    });
    return { steps, outputs, summary: readFileSync(summaryPath, 'utf8'), conclusion: failed ? 'failure' : 'success' };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
