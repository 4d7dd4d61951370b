/**
 * The doctor's judgement on preflight answers, without AWS: headroom thresholds, the exit decision, field
 * readability, and a table that never passes control characters from an AWS message to the terminal.
 */
import { describe, expect, it } from 'vitest';
import type { PreflightApi, PreflightResult, ProbeOutcome } from '../../../src/aws/preflight.ts';
import { buildDoctorReport, FIELD_READS, IAM_ACTION, renderDoctorTable } from '../../../src/cli/doctor-report.ts';

const ALL_OK: ProbeOutcome[] = (Object.keys(IAM_ACTION) as PreflightApi[]).map((api) => ({ api, status: 'ok' }));

function result(overrides: { probes?: ProbeOutcome[]; unreserved?: number; limit?: number } = {}): PreflightResult {
  const limit = overrides.limit ?? 1000;
  return {
    homeRegion: 'eu-central-1',
    identity: {
      ok: true,
      identity: { account: '123456789012', arn: 'arn:aws:sts::123456789012:assumed-role/lpc/x', userId: 'x' },
    },
    regions: [
      {
        region: 'eu-central-1',
        probes: overrides.probes ?? ALL_OK,
        sampleFunction: 'orders',
        account: {
          concurrentExecutions: limit,
          unreservedConcurrentExecutions: overrides.unreserved ?? limit,
          unreservedFloor: Math.min(100, limit),
        },
      },
    ],
  };
}

const options = { endpoint: null, minHeadroom: 0 };
const headroomOf = (r: PreflightResult, minHeadroom = 0) =>
  buildDoctorReport(r, { ...options, minHeadroom }).regions[0]?.checks.find((c) => c.name === 'concurrency headroom');

describe('buildDoctorReport', () => {
  it('passes when every probe answered, with the headroom above the floor', () => {
    const report = buildDoctorReport(result({ unreserved: 700 }), options);

    expect(report).toMatchObject({ ok: true, failures: 0, warnings: 0 });
    expect(report.regions[0]?.concurrency?.headroom).toBe(600);
    expect(report.regions[0]?.fields.map((f) => f.field)).toEqual(FIELD_READS.map((f) => f.field));
  });

  it.each([
    ['no headroom left: warns (reservations will be infeasible)', { unreserved: 100 }, 0, 'warn'],
    ['a low-quota account (limit 10): warns', { limit: 10, unreserved: 10 }, 0, 'warn'],
    ['less headroom than --min-headroom: fails', { unreserved: 150 }, 51, 'fail'],
    ['exactly --min-headroom: passes', { unreserved: 150 }, 50, 'ok'],
  ] as const)('%s', (_name, account, minHeadroom, status) => {
    expect(headroomOf(result(account), minHeadroom)?.status).toBe(status);
  });

  it('fails on a denied probe, marks it denied, and only the fields that need it unreadable', () => {
    // Arrange
    const probes = ALL_OK.map(
      (p): ProbeOutcome =>
        p.api === 'DescribeScheduledActions'
          ? {
              api: p.api,
              status: 'failed',
              error: { code: 'AccessDenied', awsCode: 'AccessDeniedException', message: 'no' },
            }
          : p,
    );

    // Act
    const report = buildDoctorReport(result({ probes }), options);

    // Assert
    expect(report).toMatchObject({ ok: false, failures: 1 });
    expect(report.regions[0]?.checks.find((c) => c.status === 'fail')).toMatchObject({
      name: 'application-autoscaling:DescribeScheduledActions',
      denied: true,
    });
    expect(report.regions[0]?.fields.filter((f) => f.readable !== true)).toEqual([
      {
        field: 'provisionedConcurrency.windows',
        needs: [
          'lambda:ListFunctions',
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:DescribeScheduledActions',
          'application-autoscaling:DescribeScalingPolicies',
        ],
        readable: false,
        missing: ['application-autoscaling:DescribeScheduledActions'],
      },
    ]);
  });

  it('tells a refused call from an unanswered one in the verdict', () => {
    const probes = ALL_OK.map(
      (p): ProbeOutcome =>
        p.api === 'ListFunctions'
          ? {
              api: p.api,
              status: 'failed',
              error: { code: 'Retryable', awsCode: 'NetworkError', message: 'ECONNREFUSED' },
            }
          : p,
    );

    const table = renderDoctorTable(buildDoctorReport(result({ probes }), options));

    expect(table).toContain(
      'result: 1 check failed (1 not answered: check the endpoint, the network and the region names)',
    );
  });
});

describe('renderDoctorTable', () => {
  it('shows control characters of an AWS message instead of sending them to the terminal', () => {
    const probes = ALL_OK.map(
      (p): ProbeOutcome =>
        p.api === 'GetResources'
          ? {
              api: p.api,
              status: 'failed',
              error: { code: 'AccessDenied', awsCode: 'X', message: 'denied\u001b[2J\r\nnow' },
            }
          : p,
    );

    const table = renderDoctorTable(buildDoctorReport(result({ probes }), options));

    expect(table).not.toContain('\u001b');
    expect(table).toContain('denied\\u001b[2J\\u000d\\u000anow');
  });
});
