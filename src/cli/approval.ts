/**
 * The blast-radius guard in the CLI: `plan` says per policy how many functions it would change and whether the
 * guard would stop it; `apply` refuses an over-limit plan unless `--approve`, and on a terminal asks before the
 * first write unless `--yes`. The decision itself is the engine's (src/engine/rollout.ts), the same the
 * controller makes, so a CI check and the running controller stop the same plans.
 */
import { createInterface } from 'node:readline/promises';
import type { Plan, PolicyReport } from '../engine/model.ts';
import type { RolloutReport } from '../engine/rollout.ts';

/** The additive `rollout` field of a policy in `plan -o json`. */
export interface RolloutJson {
  /** Functions the policy would change in this run. */
  changing: number;
  matched: number;
  /** Functions this run writes for the policy (a batch, or all). */
  thisRun: number;
  /** The guard stops the policy: `apply` needs --approve, the controller waits for the approve annotation. */
  stopped: boolean;
  /** The limit exceeded, e.g. "maxFunctions 50". */
  limit?: string;
  message: string;
}

export function rolloutJson(r: RolloutReport): RolloutJson {
  return {
    changing: r.changing,
    matched: r.matched,
    thisRun: r.allowed,
    stopped: r.exceeded !== undefined,
    ...(r.exceeded === undefined ? {} : { limit: r.exceeded }),
    message: r.message,
  };
}

/** Policies the guard stops (with the CLI's approval assumed, `exceeded` is still set on them). */
export function stoppedPolicies(plan: Plan): PolicyReport[] {
  return plan.policies.filter((p) => p.rollout?.exceeded !== undefined);
}

/** The guard section under the plan table: one line per Enforce policy that changes something. */
export function guardLines(plan: Plan): string {
  const lines: string[] = [];
  for (const p of plan.policies) {
    const r = p.rollout;
    if (!r) continue;
    const verdict =
      r.exceeded !== undefined
        ? `STOPPED by the guard (more than ${r.exceeded}): apply needs --approve`
        : r.allowed < r.changing
          ? `batch of ${r.allowed} in this run`
          : 'within the guard';
    lines.push(`guard: ${p.id}: would change ${r.changing} of ${r.matched} matched functions: ${verdict}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export interface ApprovalIo {
  isTTY: boolean;
  /** Asks a yes/no question; resolves true for yes. */
  ask(question: string): Promise<boolean>;
  error(line: string): void;
}

export function terminalIo(): ApprovalIo {
  return {
    isTTY: process.stdin.isTTY === true && process.stderr.isTTY === true,
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
    error: (line) => process.stderr.write(`${line}\n`),
  };
}

export type ApplyVerdict = 'write' | 'refused' | 'declined';

/**
 * Whether `apply` may write `plan`: refused when the guard stops a policy and --approve was not given; on a
 * terminal, asked unless --yes. Nothing to write is always fine.
 */
export async function approveApply(
  plan: Plan,
  opts: { approve: boolean; yes: boolean },
  io: ApprovalIo,
): Promise<ApplyVerdict> {
  const stopped = stoppedPolicies(plan);
  if (stopped.length > 0 && !opts.approve) {
    for (const p of stopped) {
      io.error(`refused: ${p.id}: ${p.rollout?.message ?? ''}, more than ${p.rollout?.exceeded ?? ''}`);
    }
    io.error('nothing written: review the plan, then re-run apply with --approve');
    return 'refused';
  }
  const functions = plan.functions.filter((f) => f.actions.length > 0);
  if (functions.length === 0 || opts.yes || !io.isTTY) return 'write';
  const actions = functions.reduce((n, f) => n + f.actions.length, 0);
  const ok = await io.ask(`apply ${actions} changes to ${functions.length} functions? [y/N] `);
  return ok ? 'write' : 'declined';
}
