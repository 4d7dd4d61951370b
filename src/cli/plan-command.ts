/**
 * `plan` and `apply`: one pass over policy files against AWS (or an embedded emulator), printed for people or as
 * the stable JSON document. Exit codes: 0 compliant, 2 drift (left), 1 error.
 */
import { toPolicyInput } from '../api/parse.ts';
import { type Aws, createAws, type FunctionExecution } from '../aws/index.ts';
import type { Plan } from '../engine/model.ts';
import { reconcileFleet } from '../reconcile/pass.ts';
import { loadPolicyFiles } from '../sources/files.ts';
import { runAccountsPlan, usesAccounts, withHomeAccount } from './accounts-plan.ts';
import { type EmbeddedAws, startEmbeddedAws } from './embedded-aws.ts';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_OK } from './exit-codes.ts';
import { Progress } from './progress.ts';
import { planToJson, planToTable } from './render.ts';

export interface PlanCommandOptions {
  filename: string[];
  output: 'table' | 'json';
  now?: Date;
  regions?: string[];
  awsEndpoint?: string;
  seed?: string;
  enforce: boolean;
  concurrency?: number;
  assumeRole?: string;
  externalId?: string;
}

export interface ExecutionJson {
  region: string;
  name: string;
  ok: boolean;
  outcomes: { api: string; status: string; error?: string; note?: string }[];
}

function executionsToJson(executions: FunctionExecution[]): ExecutionJson[] {
  return executions.map((e) => ({
    region: e.region,
    name: e.name,
    ok: e.ok,
    outcomes: e.outcomes.map((o) => ({
      api: o.action.api,
      status: o.status,
      ...(o.error ? { error: `${o.error.code}: ${o.error.message}` } : {}),
      ...(o.note ? { note: o.note } : {}),
    })),
  }));
}

function hasDrift(plan: Plan): boolean {
  return plan.functions.some((f) => !f.compliant || f.auditDrift.length > 0);
}

export async function runPlan(opts: PlanCommandOptions): Promise<number> {
  const loaded = await loadPolicyFiles(opts.filename);
  if (loaded.errors.length > 0) {
    for (const e of loaded.errors) process.stderr.write(`error: ${e}\n`);
    return EXIT_ERROR;
  }
  const policies = loaded.policies.map(toPolicyInput);
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
      process.stderr.write(`error: no region for ${ids} (no selector.regions): pass --regions or set AWS_REGION\n`);
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
      });
    }
    aws = createAws({
      regions: defaultRegions,
      ...(endpoint === undefined ? {} : { endpoint }),
      onCall: (call) => progress.onCall(call),
    });
    const pass = await reconcileFleet(aws, policies, {
      defaultRegions,
      now: opts.now,
      enforce: opts.enforce,
      execute: { concurrency: opts.concurrency },
      onReadsPlanned: (_region, reads) => progress.expectReads(reads),
    });
    let final = pass.plan;
    if (opts.enforce && pass.executions.length > 0) {
      progress.phase('re-checking after apply');
      final = (await reconcileFleet(aws, policies, { defaultRegions, now: opts.now, enforce: false })).plan;
    }
    progress.done();
    if (opts.output === 'json') {
      const doc = opts.enforce
        ? {
            ...withHomeAccount(planToJson(pass.plan)),
            executions: executionsToJson(pass.executions),
            after: withHomeAccount(planToJson(final)),
          }
        : withHomeAccount(planToJson(pass.plan));
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      process.stdout.write(planToTable(pass.plan));
      if (opts.enforce) process.stdout.write(renderExecutions(pass.executions, final));
    }
    if (pass.executions.some((e) => !e.ok)) return EXIT_DRIFT;
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

function renderExecutions(executions: FunctionExecution[], after: Plan): string {
  const lines: string[] = [''];
  const applied = executions.reduce((n, e) => n + e.outcomes.filter((o) => o.status === 'applied').length, 0);
  const failed = executions.filter((e) => !e.ok);
  lines.push(`applied ${applied} changes to ${executions.length} functions; ${failed.length} failed`);
  for (const e of failed) {
    const bad = e.outcomes.find((o) => o.status === 'failed');
    lines.push(`  failed: ${e.region}/${e.name}: ${bad?.action.api}: ${bad?.error?.message ?? 'unknown error'}`);
  }
  const s = after.summary;
  lines.push(`after apply: ${s.compliant}/${s.matched} compliant, ${s.drifted} drifted, ${s.infeasible} infeasible`);
  return `${lines.join('\n')}\n`;
}
