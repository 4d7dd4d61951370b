/**
 * `plan` and `apply`: one pass over policy files (or stdin) against AWS (or an embedded emulator), printed for
 * people, as markdown for a pull request, or as the stable JSON/YAML document. Exit codes: 0 compliant, 2 drift
 * left, 1 error (bad policy file, AWS unreachable, a write that failed).
 */
import { toPolicyInput } from '../api/parse.ts';
import { type Aws, createAws } from '../aws/index.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import type { Plan } from '../engine/model.ts';
import { DEFAULT_MAX_CHANGES_PERCENT } from '../engine/rollout.ts';
import { reconcileFleet } from '../reconcile/pass.ts';
import { runAccountsPlan, usesAccounts } from './accounts-plan.ts';
import { type ApplyVerdict, approveApply, terminalIo } from './approval.ts';
import { type EmbeddedAws, startEmbeddedAws } from './embedded-aws.ts';
import { escapeTerminalLines } from './escape.ts';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_OK } from './exit-codes.ts';
import { readPolicies, skippedByKind, skippedNotes } from './policy-files.ts';
import { Progress } from './progress.ts';
import { type RunReport, renderJson, renderMarkdown, renderText, renderYaml } from './render.ts';
import { loadRuntimeTable } from './runtimes-file.ts';

export type OutputFormat = 'table' | 'json' | 'yaml' | 'markdown';

export interface PlanCommandOptions {
  filename: string[];
  output: OutputFormat;
  /** Descend into sub-directories of -f directories. */
  recursive?: boolean;
  now?: Date;
  regions?: string[];
  awsEndpoint?: string;
  seed?: string;
  enforce: boolean;
  concurrency?: number;
  runtimesFile?: string;
  /** apply: let policies the blast-radius guard stops proceed. */
  approve?: boolean;
  /** apply: do not ask on a terminal before writing. */
  yes?: boolean;
  /** The default guard for policies without spec.rollout limits. */
  maxChangesPercent?: number;
  /** Tags marking functions owned by infrastructure as code. */
  iacOwnerTags?: IacOwnerTag[];
  /** `--assume-role`: the home account is reached through this role. */
  assumeRole?: string;
  externalId?: string;
}

function hasDrift(plan: Plan): boolean {
  return plan.functions.some((f) => !f.compliant || f.auditDrift.length > 0);
}

function render(report: RunReport, output: OutputFormat): string {
  switch (output) {
    case 'json':
      return renderJson(report);
    case 'yaml':
      return renderYaml(report);
    case 'markdown':
      return renderMarkdown(report, report.applied ? { title: 'lambda-policy-controller apply' } : {});
    case 'table':
      return renderText(report, { width: terminalWidth() });
  }
}

/** The terminal's width within 80..120 columns; 100 when stdout is not a terminal (a CI log, a file). */
function terminalWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return columns === undefined ? 100 : Math.min(120, Math.max(80, columns));
}

function stderrLine(text: string): void {
  process.stderr.write(`${escapeTerminalLines(text)}\n`);
}

export async function runPlan(opts: PlanCommandOptions): Promise<number> {
  const loaded = await readPolicies(opts.filename, { recursive: opts.recursive ?? false });
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) stderrLine(`error: ${e}`);
    return EXIT_ERROR;
  }
  const skipped = skippedByKind(loaded.skipped);
  for (const note of skippedNotes(loaded.skipped)) stderrLine(`note: ${note}`);
  const policies = loaded.policies.map(toPolicyInput);
  // An empty set checks nothing: a CI gate on it would pass whatever AWS holds.
  if (policies.length === 0) {
    process.stderr.write(`error: no LambdaPolicy in ${opts.filename.join(', ')}: nothing to check\n`);
    return EXIT_ERROR;
  }
  let runtimes: Awaited<ReturnType<typeof loadRuntimeTable>>;
  try {
    runtimes = await loadRuntimeTable(opts.runtimesFile);
  } catch (error) {
    stderrLine(`error: ${(error as Error).message}`);
    return EXIT_ERROR;
  }
  let embedded: EmbeddedAws | undefined;
  let aws: Aws | undefined;
  const progress = new Progress(process.stderr);
  try {
    if (opts.seed) embedded = await startEmbeddedAws(opts.seed);
    const endpoint = embedded?.url ?? opts.awsEndpoint;
    const defaultRegions = opts.regions ?? embedded?.regions ?? envRegions();
    // Without a default region, policies without selector.regions would silently match nothing and a CI check
    // would pass having checked nothing: refuse, as the AWS CLI does without a region.
    const unregioned = policies.filter((p) => !p.suspend && (p.selector.regions ?? []).length === 0);
    if (defaultRegions.length === 0 && unregioned.length > 0) {
      const ids = unregioned.map((p) => p.id).join(', ');
      stderrLine(`error: no region for ${ids} (no selector.regions): pass --regions or set AWS_REGION`);
      return EXIT_ERROR;
    }
    if (usesAccounts(policies, loaded.tenancy, opts.assumeRole)) {
      const assumeRole = opts.assumeRole ? { roleArn: opts.assumeRole, externalId: opts.externalId } : undefined;
      return await runAccountsPlan(policies, loaded.tenancy ?? { accounts: [], namespaces: [] }, {
        output: opts.output,
        now: opts.now,
        enforce: opts.enforce,
        concurrency: opts.concurrency,
        endpoint,
        defaultRegions,
        assumeRole,
        skipped,
        runtimes,
        // No prompt across accounts: apply writes what the guard lets through, and guarded policies only with
        // --approve (plan shows what apply --approve would write, as in one account).
        rollout: {
          defaultMaxPercent: opts.maxChangesPercent ?? DEFAULT_MAX_CHANGES_PERCENT,
          approveAll: !opts.enforce || (opts.approve ?? false),
        },
        iacOwnerTags: opts.iacOwnerTags,
      });
    }
    aws = createAws({
      regions: defaultRegions,
      ...(endpoint === undefined ? {} : { endpoint }),
      onCall: (call) => progress.onCall(call),
    });
    let verdict: ApplyVerdict = 'write';
    // The plan shows what apply --approve would write; the guard's verdict decides whether apply may.
    const rollout = { defaultMaxPercent: opts.maxChangesPercent ?? DEFAULT_MAX_CHANGES_PERCENT, approveAll: true };
    const pass = await reconcileFleet(aws, policies, {
      defaultRegions,
      now: opts.now,
      enforce: opts.enforce,
      execute: { concurrency: opts.concurrency },
      ...(runtimes ? { runtimes } : {}),
      iacOwnerTags: opts.iacOwnerTags,
      rollout,
      approveWrites: async (plan) => {
        progress.done();
        verdict = await approveApply(plan, { approve: opts.approve ?? false, yes: opts.yes ?? false }, terminalIo());
        return verdict === 'write';
      },
      onReadsPlanned: (_region, reads) => progress.expectReads(reads),
    });
    if (verdict !== 'write') {
      if (verdict === 'declined') process.stderr.write('aborted: nothing written\n');
      return EXIT_ERROR;
    }
    let final: Plan | null = pass.plan;
    let recheckError: unknown;
    if (opts.enforce && pass.executions.length > 0) {
      progress.phase('re-checking after apply');
      // The writes are made: whatever happens to the re-check, they are reported below.
      try {
        final = (
          await reconcileFleet(aws, policies, {
            defaultRegions,
            now: opts.now,
            enforce: false,
            ...(runtimes ? { runtimes } : {}),
            rollout,
            iacOwnerTags: opts.iacOwnerTags,
          })
        ).plan;
      } catch (error) {
        final = null;
        recheckError = error;
      }
    }
    progress.done();
    const report: RunReport = {
      plan: pass.plan,
      skipped,
      ...(opts.enforce ? { applied: { executions: pass.executions, after: final } } : {}),
    };
    process.stdout.write(render(report, opts.output));
    if (final === null) {
      stderrLine(`error: re-check after apply failed: ${describe(recheckError)}`);
      return EXIT_ERROR;
    }
    // A write that failed is an error of the run (exit 1), not drift: a CI job must not read it as "drift left".
    if (pass.executions.some((e) => !e.ok)) return EXIT_ERROR;
    return hasDrift(final) ? EXIT_DRIFT : EXIT_OK;
  } finally {
    progress.done();
    aws?.destroy();
    await embedded?.stop();
  }
}

function envRegions(): string[] {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return region ? [region] : [];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
