/**
 * The `lambda-policy-controller` command line: `run` (the controller), `plan` / `apply` (one pass over policy
 * files, for CI), `doctor` (the AWS preflight), `emulator` (the local AWS emulator) and `demo` (what `npm start`
 * runs). Each command lives in its
 * own module and is loaded only when used, so `plan` does not pay for the Kubernetes client.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CONTROLLER_VERSION } from '../aws/clients.ts';
import { DEFAULT_LEASE_NAME, leaseNameProblem } from '../controller/lease-name.ts';
import { IacOwnerTagsError, parseIacOwnerTags } from '../engine/iac.ts';
import { DEFAULT_GUARD_FLOOR, DEFAULT_MAX_CHANGES_PERCENT } from '../engine/rollout.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../shared/log-output.ts';
import { escapeTerminal } from './escape.ts';
import { EXIT_ERROR } from './exit-codes.ts';

const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'markdown'];

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function isoInstant(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`not an ISO 8601 instant: ${value}`);
  return date;
}

/** An integer percentage 1..100 (100 lets any pass through; there is no 0: Audit mode is how to write nothing). */
function percent(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 100) {
    throw new InvalidArgumentError(`must be an integer percentage from 1 to 100, got ${JSON.stringify(value)}`);
  }
  return n;
}

function maxChangesPercentOption(): Option {
  return new Option(
    '--max-changes-percent <n>',
    `default guard for policies without spec.rollout: a pass changing more than this percentage of a policy's matched functions (and more than ${DEFAULT_GUARD_FLOOR}) is stopped until approved`,
  )
    .argParser(percent)
    .default(DEFAULT_MAX_CHANGES_PERCENT);
}

function iacOwnerTagsOption(): Option {
  return new Option(
    '--iac-owner-tags <list>',
    'tags marking functions owned by infrastructure as code besides CloudFormation/SAM (KEY=VALUE or KEY, comma-separated)',
  ).argParser((value: string) => {
    try {
      return parseIacOwnerTags(value);
    } catch (error) {
      if (error instanceof IacOwnerTagsError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`not a positive integer: ${value}`);
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return n;
}

function leaseName(value: string): string {
  const problem = leaseNameProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

function awsOptions(cmd: Command): Command {
  return cmd
    .option('--regions <list>', 'regions of policies without selector.regions (default: AWS_REGION)', commaList)
    .option('--aws-endpoint <url>', 'send AWS calls to this endpoint (e.g. the emulator at http://127.0.0.1:4566)')
    .option('--seed <file>', 'run against an embedded emulator seeded from this fleet file instead of AWS')
    .option('--runtimes-file <file>', 'runtime deprecation table (YAML) replacing the shipped one, for checks.runtime');
}

/** plan/apply only: reach the home account through a role (AssumeRole from the caller's identity). */
function roleOptions(cmd: Command): Command {
  return cmd
    .option('--assume-role <arn>', "assume this IAM role for the home account instead of using the caller's identity")
    .option('--external-id <id>', 'ExternalId sent with --assume-role');
}

export function buildProgram(exit: { code: number }): Command {
  const program = new Command('lambda-policy-controller')
    .description('Keeps a fleet of AWS Lambda functions in line with LambdaPolicy resources.')
    .version(CONTROLLER_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  roleOptions(
    awsOptions(
      program
        .command('plan')
        .description(
          'read policies and AWS, print the drift and the actions apply would take (exit 0 compliant, 2 drift, 1 error)',
        )
        .requiredOption('-f, --filename <path>', 'policy file or directory, - for stdin (repeatable)', collect)
        .option('-R, --recursive', 'descend into sub-directories of -f directories', false)
        .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
        .option('--now <iso>', 'evaluate schedules at this instant', isoInstant)
        .addOption(maxChangesPercentOption())
        .addOption(iacOwnerTagsOption()),
    ),
  ).action(async (opts) => {
    const { runPlan } = await import('./plan-command.ts');
    exit.code = await runPlan({ ...opts, enforce: false });
  });

  roleOptions(
    awsOptions(
      program
        .command('apply')
        .description(
          'enforce the plan once: the same pass as plan, then the writes (exit 0 compliant, 2 drift left, 1 error)',
        )
        .requiredOption('-f, --filename <path>', 'policy file or directory, - for stdin (repeatable)', collect)
        .option('-R, --recursive', 'descend into sub-directories of -f directories', false)
        .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
        .option('--now <iso>', 'evaluate schedules at this instant', isoInstant)
        .option('--concurrency <n>', 'functions updated at once', positiveInt, 32)
        .option('--approve', 'let policies the blast-radius guard stops proceed (review plan first)', false)
        .option('-y, --yes', 'do not ask before writing when run on a terminal', false)
        .addOption(maxChangesPercentOption())
        .addOption(iacOwnerTagsOption()),
    ),
  ).action(async (opts) => {
    const { runPlan } = await import('./plan-command.ts');
    exit.code = await runPlan({ ...opts, enforce: true });
  });

  awsOptions(
    program
      .command('doctor')
      .description(
        "preflight before Enforce: identity, each region's read APIs, concurrency headroom, readable fields (exit 0 ok, 1 a check failed)",
      )
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
      .option(
        '--min-headroom <n>',
        'fail when less unreserved concurrency than this can still be reserved',
        nonNegativeInt,
        0,
      ),
  ).action(async (opts) => {
    const { runDoctor } = await import('./doctor-command.ts');
    exit.code = await runDoctor(opts);
  });

  program
    .command('emulator')
    .description('run the local AWS emulator (Lambda, Application Auto Scaling, tagging, STS)')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 4566)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <file>', 'fleet seed file (YAML)')
    .option('--update-delay-ms <ms>', 'how long LastUpdateStatus stays InProgress after an update', (v) => Number(v))
    .action(async (opts) => {
      const { runEmulatorCommand } = await import('../emulator/index.ts');
      await runEmulatorCommand({
        port: opts.port,
        host: opts.host,
        seedPath: opts.seed,
        updateDelayMs: opts.updateDelayMs,
      });
    });

  awsOptions(
    program
      .command('run')
      .description('run the controller in a cluster (in-cluster config or --kubeconfig)')
      .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, then KUBECONFIG, then ~/.kube/config)')
      .option('--namespace <ns>', 'watch only this namespace (default: all)')
      .option('--metrics-addr <addr>', 'address of /metrics (default :8080 in a pod, else 127.0.0.1:8080)')
      .option('--health-addr <addr>', 'address of /healthz and /readyz (default :8081 in a pod, else 127.0.0.1:8081)')
      .option('--leader-elect', 'run leader election on a Lease (for more than one replica)', false)
      .option('--leader-election-namespace <ns>', 'namespace of the Lease (default: POD_NAMESPACE or default)')
      .option(
        '--leader-election-id <name>',
        `name of the Lease (one per installation; default ${DEFAULT_LEASE_NAME})`,
        leaseName,
        DEFAULT_LEASE_NAME,
      )
      .option('--workers <n>', 'regions reconciled at once', positiveInt, 4)
      .option(
        '--max-workers-per-account <n>',
        "one account's regions reconciled at once, at most, so a slow account leaves workers to the others (default: half the workers, at least 1)",
        positiveInt,
      )
      .option('--dry-run', 'treat every policy as Audit: read and report drift, never write AWS', false)
      .option(
        '--home-account-namespaces <selector>',
        "namespaces whose policies may reach the controller's own account: a label selector (team=a,env in (x,y)), JSON, or none (default: every namespace)",
      )
      .option(
        '--account-selector <selector>',
        'shard: govern only the AwsAccounts whose labels match (several releases split the estate)',
      )
      .addOption(maxChangesPercentOption())
      .addOption(iacOwnerTagsOption())
      .addOption(
        new Option('--log-level <level>', 'least severe level logged')
          .choices(LOG_LEVELS)
          .env('LOG_LEVEL')
          .default('info'),
      )
      .addOption(
        new Option('--log-format <format>', 'json: one object per line; text: one readable line per record')
          .choices(LOG_FORMATS)
          .default('json'),
      ),
  ).action(async (opts) => {
    const { runController } = await import('./run-command.ts');
    exit.code = await runController(opts);
  });

  program
    .command('demo')
    .description('the emulator seeded with examples/fleet.yaml, the reconcile loop over examples/policies, a live view')
    .option('-f, --filename <path>', 'policy file or directory (repeatable; default examples/policies)', collect)
    .option('--seed <file>', 'fleet seed file (default examples/fleet.yaml)')
    .option('--once', 'exit 0 as soon as the fleet has converged (1 if it does not within --timeout)', false)
    .option('--timeout <seconds>', 'with --once: give up after this long', positiveInt, 120)
    .option('--port <port>', 'emulator port (0: any free port)', (v) => Number(v), 4566)
    .action(async (opts) => {
      const { runDemo } = await import('./demo-command.ts');
      exit.code = await runDemo(opts);
    });

  return program;
}

/** Runs the CLI; returns the process exit code (0 ok/compliant, 2 drift, 1 error). */
export async function main(argv: string[]): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(exit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_ERROR;
    // AWS error text can carry anything; it reaches a terminal only escaped.
    process.stderr.write(`error: ${escapeTerminal(describeError(err))}\n`);
    return EXIT_ERROR;
  }
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join(': ');
}
