/**
 * `lambda-policy-controller doctor`: the preflight to run before enabling Enforce (and the chart's `helm test`).
 * With the credentials the controller would use, it asks STS who they are, calls each region's read APIs once,
 * reads the account's concurrency headroom and reports which governed fields can be read. Exit 0 when every check
 * passes (warnings allowed), 1 when one fails. Nothing is written to AWS.
 */
import { createAws } from '../aws/index.ts';
import { runPreflight } from '../aws/preflight.ts';
import { buildDoctorReport, renderDoctorTable } from './doctor-report.ts';
import { type EmbeddedAws, startEmbeddedAws } from './embedded-aws.ts';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.ts';

export interface DoctorCommandOptions {
  regions?: string[];
  awsEndpoint?: string;
  seed?: string;
  output: 'table' | 'json';
  minHeadroom: number;
}

/** A preflight answers in seconds or says why not: one retry of a transient failure, not the controller's three. */
const DOCTOR_RETRY = { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 2_000 };

export async function runDoctor(opts: DoctorCommandOptions): Promise<number> {
  let embedded: EmbeddedAws | undefined;
  try {
    if (opts.seed) embedded = await startEmbeddedAws(opts.seed);
    const endpoint = embedded?.url ?? opts.awsEndpoint;
    const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
    const regions = opts.regions ?? embedded?.regions ?? (envRegion ? [envRegion] : []);
    const [first] = regions;
    if (first === undefined) {
      process.stderr.write('error: no region to check: pass --regions or set AWS_REGION\n');
      return EXIT_ERROR;
    }
    // STS is asked where the SDK would ask it: the pod's AWS_REGION, else the first region checked.
    const homeRegion = envRegion ?? first;
    const aws = createAws({ regions, ...(endpoint !== undefined ? { endpoint } : {}), retry: DOCTOR_RETRY });
    try {
      const result = await runPreflight(aws, regions, homeRegion);
      const report = buildDoctorReport(result, { endpoint: endpoint ?? null, minHeadroom: opts.minHeadroom });
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorTable(report));
      return report.ok ? EXIT_OK : EXIT_ERROR;
    } finally {
      aws.destroy();
    }
  } finally {
    await embedded?.stop();
  }
}
