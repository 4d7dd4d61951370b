/**
 * `doctor` against the emulator through the real SDK: every read API once per region and STS once, no write; the
 * headroom figures are the account's; an AccessDenied (injected with the emulator's fault injection, as IAM would
 * answer) fails the run with exit 1 and names the fields the controller could not read; throttling is absorbed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DoctorReport } from '../../../src/cli/doctor-report.ts';
import { fixture, runBin, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGIONS = ['eu-central-1', 'us-east-1'];

let emu: TestEmulator | undefined;
beforeEach(() => {
  vi.stubEnv('AWS_REGION', '');
  vi.stubEnv('AWS_DEFAULT_REGION', '');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await emu?.stop();
  emu = undefined;
});

function doctorArgs(url: string, regions: readonly string[] = REGIONS): string[] {
  return ['doctor', '--aws-endpoint', url, '--regions', regions.join(','), '-o', 'json'];
}

interface Calls {
  byRegionApi: Record<string, Record<string, number>>;
}

function denied(api: string, action: string, region: string) {
  return {
    api,
    error: 'AccessDeniedException',
    status: 403,
    region,
    message: `User: arn:aws:sts::123456789012:assumed-role/lpc/pod is not authorized to perform: ${action}`,
  };
}

describe('doctor', () => {
  it('passes on a readable account: one call of every read API per region, STS once, nothing written', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    // Act
    const result = await runCli(doctorArgs(emu.url));

    // Assert
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report).toMatchObject({ ok: true, failures: 0, endpoint: emu.url });
    expect(report.identity).toMatchObject({ status: 'ok', account: '123456789012' });
    for (const region of report.regions) {
      expect(region.checks.map((c) => `${c.name} ${c.status}`)).toEqual([
        'lambda:ListFunctions ok',
        'tag:GetResources ok',
        'application-autoscaling:DescribeScalableTargets ok',
        'application-autoscaling:DescribeScheduledActions ok',
        'application-autoscaling:DescribeScalingPolicies ok',
        'lambda:GetAccountSettings ok',
        'lambda:GetFunction ok',
        'lambda:ListProvisionedConcurrencyConfigs ok',
        'lambda:ListAliases ok',
        'concurrency headroom ok',
      ]);
      expect(region.fields.every((f) => f.readable === true)).toBe(true);
    }
    const calls = await emu.admin<Calls>('GET', 'calls');
    const perRegion = {
      ListFunctions: 1,
      GetResources: 1,
      DescribeScalableTargets: 1,
      DescribeScheduledActions: 1,
      DescribeScalingPolicies: 1,
      GetAccountSettings: 1,
      GetFunction: 1,
      ListProvisionedConcurrencyConfigs: 1,
      ListAliases: 1,
    };
    // STS is asked in the first region (AWS_REGION is unset here).
    expect(calls.byRegionApi).toEqual({
      'eu-central-1': { ...perRegion, GetCallerIdentity: 1 },
      'us-east-1': perRegion,
    });
    expect(await emu.writes()).toEqual([]);
  });

  it("reports the account's headroom: unreserved concurrency above AWS's floor", async () => {
    // Arrange: limit 1000, 300 reserved by the one function -> 700 unreserved, 600 can still be reserved
    emu = await startTestEmulator({
      accountConcurrency: 1000,
      functions: [{ name: 'reserved', region: 'eu-central-1', reservedConcurrency: 300 }],
    });

    // Act
    const ok = await runCli(doctorArgs(emu.url, ['eu-central-1']));
    const tooLittle = await runCli([...doctorArgs(emu.url, ['eu-central-1']), '--min-headroom', '601']);

    // Assert
    const report = JSON.parse(ok.stdout) as DoctorReport;
    expect(ok.code).toBe(0);
    expect(report.regions[0]?.concurrency).toEqual({
      concurrentExecutions: 1000,
      unreservedConcurrentExecutions: 700,
      unreservedFloor: 100,
      headroom: 600,
    });
    expect(tooLittle.code).toBe(1);
    const check = (JSON.parse(tooLittle.stdout) as DoctorReport).regions[0]?.checks.at(-1);
    expect(check).toMatchObject({ name: 'concurrency headroom', status: 'fail' });
    expect(check?.detail).toContain('600 can still be reserved');
  });

  it('fails with exit 1 when IAM denies a read, and names the fields that cannot be read there', async () => {
    // Arrange: the role lacks tag:GetResources in us-east-1 and lambda:GetFunction in eu-central-1
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    await emu.admin('POST', 'faults', {
      forced: [
        denied('GetResources', 'tag:GetResources', 'us-east-1'),
        denied('GetFunction', 'lambda:GetFunction', 'eu-central-1'),
      ],
    });

    // Act
    const result = await runCli(doctorArgs(emu.url));

    // Assert
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report).toMatchObject({ ok: false, failures: 2 });
    const [eu, us] = report.regions;
    expect(us?.checks.find((c) => c.name === 'tag:GetResources')).toMatchObject({ status: 'fail', denied: true });
    expect(us?.checks.find((c) => c.name === 'tag:GetResources')?.detail).toContain('AccessDeniedException');
    const unreadable = (r: typeof eu) => r?.fields.filter((f) => f.readable !== true).map((f) => f.field);
    expect(unreadable(us)).toEqual(['selector.tags']);
    expect(unreadable(eu)).toEqual(['reservedConcurrency', 'provisionedConcurrency']);
    expect(eu?.fields.find((f) => f.field === 'reservedConcurrency')).toMatchObject({
      readable: false,
      missing: ['lambda:GetFunction'],
    });
  });

  it('prints a readable report: the failed action, the affected fields and what to do', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    await emu.admin('POST', 'faults', { forced: [denied('GetResources', 'tag:GetResources', 'us-east-1')] });

    // Act: the npm bin as a child process, the way a user (or the helm test pod) runs it
    const result = await runBin(['doctor', '--aws-endpoint', emu.url, '--regions', REGIONS.join(',')]);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}ok {4}identity +arn:aws:iam::123456789012:/m);
    expect(result.stdout).toMatch(
      /^region us-east-1\n {2}ok {4}lambda:ListFunctions\n {2}FAIL {2}tag:GetResources +.*AccessDeniedException/m,
    );
    expect(result.stdout).toContain('  fields selector.tags: NOT readable (tag:GetResources failed)');
    expect(result.stdout).toContain('result: 1 check failed (1 denied: give the role the actions in docs/iam/)');
  });

  it('fails when the credentials are refused (STS), and still reports every region', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    await emu.admin('POST', 'faults', {
      forced: [
        {
          api: 'GetCallerIdentity',
          error: 'ExpiredToken',
          status: 403,
          message: 'The security token included in the request is expired',
        },
      ],
    });

    // Act
    const result = await runCli(doctorArgs(emu.url));

    // Assert
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.identity).toMatchObject({ status: 'fail', denied: true });
    expect(report.identity.detail).toContain('expired');
    expect(report.regions.map((r) => r.region)).toEqual(REGIONS);
  });

  it('absorbs throttling as the controller does (retried after Retry-After)', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    await emu.admin('POST', 'faults', {
      forced: [
        { api: 'ListFunctions', error: 'TooManyRequestsException', region: 'eu-central-1', retryAfterSeconds: 0 },
      ],
    });

    // Act
    const result = await runCli(doctorArgs(emu.url));

    // Assert
    expect(result.code, result.stdout).toBe(0);
    const calls = await emu.admin<Calls>('GET', 'calls');
    expect(calls.byRegionApi['eu-central-1']?.ListFunctions).toBe(2);
  });

  it('does not claim what it could not try: a region without functions leaves the per-function reads unverified', async () => {
    // Arrange
    emu = await startTestEmulator({ functions: [{ name: 'only', region: 'eu-central-1' }] });

    // Act
    const result = await runCli(doctorArgs(emu.url, ['us-west-2']));

    // Assert
    expect(result.code).toBe(0);
    const [region] = (JSON.parse(result.stdout) as DoctorReport).regions;
    expect(region?.checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual([
      'lambda:GetFunction',
      'lambda:ListProvisionedConcurrencyConfigs',
      'lambda:ListAliases',
    ]);
    expect(region?.fields.find((f) => f.field === 'reservedConcurrency')).toMatchObject({
      readable: 'unknown',
      missing: ['lambda:GetFunction'],
    });
    expect(region?.fields.find((f) => f.field === 'memorySize')?.readable).toBe(true);
  });

  it('refuses to run without a region', async () => {
    const result = await runCli(['doctor', '--aws-endpoint', 'http://127.0.0.1:1']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no region to check');
  });
});
