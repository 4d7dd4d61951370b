/**
 * `doctor` against moto, a second implementation of the AWS APIs: the probes parse moto's STS, Lambda, tagging and
 * Application Auto Scaling answers through the real SDK as they parse the emulator's, so the preflight does not
 * depend on the emulator's reading of the wire formats; and the two APIs moto lacks come out as "not answered",
 * never as an IAM denial.
 */
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DoctorReport, renderDoctorTable } from '../../../src/cli/doctor-report.ts';
import { defaultPackage } from '../../../src/emulator/zip.ts';
import { runCli } from '../../integration/cli/harness.ts';
import { createMotoLambdaRole, type MotoServer, startMoto } from '../harness/moto.ts';

const REGION = 'us-east-1';
let moto: MotoServer;

beforeAll(async () => {
  const binDir = process.env.LPC_MOTO_BIN_DIR;
  moto = await startMoto({ region: REGION, ...(binDir ? { binDir } : {}) });
  const role = await createMotoLambdaRole(moto.url, 'doctor-role', REGION);
  const lambda = new LambdaClient({
    endpoint: moto.url,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'orders-api',
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: { ZipFile: defaultPackage('orders-api') },
      Tags: { tier: 'api' },
    }),
  );
  lambda.destroy();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.stop();
});

/** What moto does not implement (docs/emulator-vs-moto.md, "Not compared"): it answers them with an HTML 404. */
const MOTO_LACKS = ['lambda:GetAccountSettings', 'lambda:ListProvisionedConcurrencyConfigs'];

describe('doctor against moto', () => {
  it('reads what moto implements, and reports what it lacks as unanswered, not as denied', async () => {
    // Arrange: credentials as a user's environment would hold them
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_REGION', '');

    // Act
    const result = await runCli(['doctor', '--aws-endpoint', moto.url, '--regions', REGION, '-o', 'json']);

    // Assert
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.identity).toMatchObject({ status: 'ok', account: '123456789012' });
    const [region] = report.regions;
    expect(region?.checks.filter((c) => c.status === 'ok').map((c) => c.name)).toEqual([
      'lambda:ListFunctions',
      'tag:GetResources',
      'application-autoscaling:DescribeScalableTargets',
      'application-autoscaling:DescribeScheduledActions',
      'application-autoscaling:DescribeScalingPolicies',
      'lambda:GetFunction',
      'lambda:ListAliases',
    ]);
    const failed = region?.checks.filter((c) => c.status === 'fail') ?? [];
    expect(failed.map((c) => c.name)).toEqual(MOTO_LACKS);
    expect(failed.some((c) => c.denied)).toBe(false);
    expect(region?.fields.filter((f) => f.readable === true).map((f) => f.field)).toEqual([
      'memorySize',
      'timeout',
      'architecture',
      'selector.tags',
      'provisionedConcurrency.windows',
    ]);
    expect(result.code).toBe(1);
    expect(renderDoctorTable(report)).toContain('2 not answered: check the endpoint');
  });
});
