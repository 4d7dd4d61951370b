import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AwsRetryableError } from '../../../src/aws/errors.ts';
import type { FunctionExecution } from '../../../src/aws/index.ts';
import { escapeJsonText, escapeTerminal } from '../../../src/cli/escape.ts';
import {
  outcomeCounts,
  PLAN_FORMAT_VERSION,
  type RunReport,
  renderJson,
  renderMarkdown,
  renderText,
  renderYaml,
  summaryLine,
} from '../../../src/cli/render.ts';
import type { FunctionPlan, Plan } from '../../../src/engine/model.ts';

/** Control characters (C0 other than the line breaks of the output itself, DEL, C1) and the bidi override. */
function controlCharacters(text: string): string[] {
  return [...text].filter((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return (code < 0x20 && ch !== '\n') || (code >= 0x7f && code <= 0x9f) || code === 0x202e;
  });
}

/** What a hostile or broken AWS (or emulator) could put in a name or an error: ESC sequences, CR, BEL, C1 CSI. */
const EVIL = 'fn-\u001b[2J\u001b]0;pwned\u0007\r\u009b31m\u202eevil';

function fn(partial: Partial<FunctionPlan> & { name: string }): FunctionPlan {
  return {
    region: 'eu-central-1',
    policies: ['platform/api'],
    compliant: false,
    drift: [],
    actions: [],
    refusals: [],
    overridden: [],
    auditDrift: [],
    ...partial,
  };
}

function plan(functions: FunctionPlan[]): Plan {
  return {
    now: new Date('2026-12-01T09:00:00Z'),
    functions,
    policies: [
      {
        id: 'platform/api',
        mode: 'Enforce',
        matched: 4,
        compliant: 1,
        drifted: 2,
        overridden: 0,
        infeasible: 1,
        problems: [],
      },
      {
        id: 'platform/audit',
        mode: 'Audit',
        matched: 1,
        compliant: 0,
        drifted: 1,
        overridden: 0,
        infeasible: 0,
        problems: [],
      },
    ],
    summary: { policies: 2, matched: functions.length, compliant: 0, drifted: 0, overridden: 0, infeasible: 0 },
  };
}

const FLEET = plan([
  fn({
    name: 'orders-api',
    drift: [
      { field: 'memorySize', desired: 1024, actual: 512, policy: 'platform/api' },
      {
        field: 'scheduledActions',
        desired: 'lambda-policy-controller.platform.api.business-hours.start cron(0 8 ? * MON-FRI *) Europe/Berlin 20',
        actual: 'absent',
        policy: 'platform/api',
      },
    ],
    actions: [
      { api: 'UpdateFunctionConfiguration', memorySize: 1024 },
      { api: 'RegisterScalableTarget', resourceId: 'function:orders-api:live', minCapacity: 0, maxCapacity: 20 },
      {
        api: 'PutScheduledAction',
        resourceId: 'function:orders-api:live',
        scheduledActionName: 'x',
        schedule: 'cron(0 8 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 20,
        maxCapacity: 20,
      },
    ],
  }),
  fn({
    name: 'worker',
    auditDrift: [{ field: 'timeout', desired: 60, actual: 300, policy: 'platform/audit' }],
  }),
  fn({
    name: 'reserve',
    drift: [{ field: 'reservedConcurrency', desired: 900, actual: 'Unreserved', policy: 'platform/api' }],
    refusals: [
      {
        field: 'reservedConcurrency',
        reason: 'UnreservedFloor',
        message: `reserving 900 would leave 45 unreserved in eu-central-1, below the minimum of 100 ${'and more words '.repeat(6)}`,
        policy: 'platform/api',
      },
    ],
  }),
  fn({ name: 'fine', compliant: true }),
]);

const report = (p: Plan, extra: Partial<RunReport> = {}): RunReport => ({ plan: p, skipped: {}, ...extra });

describe('the summary line', () => {
  it('puts each matched function in exactly one count', () => {
    const counts = outcomeCounts(FLEET);

    expect(counts).toEqual({ change: 1, report: 1, refused: 1, compliant: 1 });
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(FLEET.functions.length);
    expect(summaryLine(FLEET)).toBe('Plan: 1 to change, 1 to report, 1 refused, 1 compliant, of 4 functions');
  });
});

describe('renderText', () => {
  it('groups per function with terraform-style field lines, the calls apply makes, and one summary', () => {
    const out = renderText(report(FLEET, { skipped: { ConfigMap: 2 } }));

    expect(out).toContain('~ eu-central-1/orders-api  (platform/api)\n    ~ memorySize        512 -> 1024\n');
    // The policy's own action names lose their prefix: the header names the policy.
    expect(out).toContain('    + scheduledActions  business-hours.start cron(0 8 ? * MON-FRI *) Europe/Berlin 20\n');
    expect(out).toContain('      apply: UpdateFunctionConfiguration, RegisterScalableTarget, PutScheduledAction\n');
    expect(out).toContain('! eu-central-1/worker  (platform/audit)\n    ! timeout  300 -> 60  (audit)\n');
    expect(out).toMatch(
      /^x eu-central-1\/reserve {2}\(platform\/api\)\n {4}x reservedConcurrency {2}Unreserved -> 900/m,
    );
    expect(out).not.toContain('fine');
    expect(out).toContain('Skipped 2 documents of other kinds: 2 ConfigMap\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe(summaryLine(FLEET));
  });

  it('fits the width it is given (long refusal messages wrap)', () => {
    for (const width of [80, 100, 120]) {
      const lines = renderText(report(FLEET), { width }).split('\n');
      expect(Math.max(...lines.map((l) => l.length)), `width ${width}`).toBeLessThanOrEqual(width);
    }
  });

  it('escapes control characters from names and AWS errors', () => {
    const evil = plan([
      fn({
        name: EVIL,
        drift: [{ field: 'timeout', desired: 10, actual: 30, policy: 'platform/api' }],
        actions: [{ api: 'UpdateFunctionConfiguration', timeout: 10 }],
      }),
    ]);
    const execution: FunctionExecution = {
      region: 'eu-central-1',
      name: EVIL,
      ok: false,
      outcomes: [
        {
          action: { api: 'UpdateFunctionConfiguration', timeout: 10 },
          ok: false,
          status: 'failed',
          error: new AwsRetryableError('bad\u001b[31m red\nsecond line'),
        },
      ],
    };

    const text = renderText(report(evil, { applied: { executions: [execution], after: evil } }));
    const markdown = renderMarkdown(report(evil, { applied: { executions: [execution], after: evil } }));

    for (const out of [text, markdown]) {
      expect(controlCharacters(out)).toEqual([]);
    }
    expect(text).toContain('fn-\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x9b31m\\u{202e}evil');
    // In markdown the escapes are themselves made literal (a backslash would otherwise be markup).
    expect(markdown).toContain('fn-\\\\x1b\\[2J');
    expect(text).toContain('bad\\x1b[31m red\\x0asecond line');
    expect(text).toContain('failed: eu-central-1/fn-');
    expect(text).toContain('Retryable: bad');
  });
});

describe('machine formats', () => {
  it('-o json keeps every contract key, adds formatVersion and skipped, and parses back to the same values', () => {
    const evil = plan([fn({ name: EVIL, compliant: true })]);

    const text = renderJson(report(evil, { skipped: { Namespace: 1 } }));
    const doc = JSON.parse(text) as Record<string, unknown>;

    expect(Object.keys(doc)).toEqual(['formatVersion', 'now', 'summary', 'functions', 'policies', 'skipped']);
    expect(doc.formatVersion).toBe(PLAN_FORMAT_VERSION);
    expect(doc.skipped).toEqual({ Namespace: 1 });
    expect((doc.functions as { name: string }[])[0]?.name).toBe(EVIL);
    expect(controlCharacters(text)).toEqual([]);
  });

  it('-o yaml is the same document', () => {
    const evil = plan([fn({ name: EVIL, compliant: true }), ...FLEET.functions]);

    const yamlText = renderYaml(report(evil));

    expect(parse(yamlText)).toEqual(JSON.parse(renderJson(report(evil))));
    expect(controlCharacters(yamlText)).toEqual([]);
  });

  it('escapeJsonText leaves the JSON value unchanged', () => {
    const value = { s: `a\u007fb\u0085c\u2066d`, n: [1, 'x'] };
    const escaped = escapeJsonText(JSON.stringify(value, null, 2));

    expect(JSON.parse(escaped)).toEqual(value);
    expect(escaped).toContain('\\u007f');
    expect(escapeTerminal('tab\there ü')).toBe('tab\\x09here ü');
  });
});

describe('renderMarkdown', () => {
  it('a table row per field, markup characters made literal, the policy table and the summary in bold', () => {
    const md = renderMarkdown(report(FLEET));

    expect(md).toContain(`**${summaryLine(FLEET)}** at 2026-12-01T09:00:00Z`);
    expect(md).toContain('| change | eu-central-1/orders-api | memorySize | 512 → 1024 | platform/api |');
    expect(md).toContain('| report | eu-central-1/worker | timeout | 300 → 60 (audit) | platform/audit |');
    expect(md).toContain('cron(0 8 ? \\* MON-FRI \\*)');
    expect(md).toContain(
      '| policy | mode | matched | compliant | drifted | overridden | infeasible |\n|---|---|--:|--:|--:|--:|--:|',
    );
    expect(md).toContain('| platform/api | Enforce | 4 | 1 | 2 | 0 | 1 |');
  });
});

describe('checks and the production settings in the outputs', () => {
  const SECRET_CHECK = {
    check: 'noSecretsInEnvironment' as const,
    actual: 'DB_PASSWORD',
    message: 'environment variable DB_PASSWORD looks like a secret',
    policy: 'platform/api',
  };
  const checked = {
    ...plan([
      fn({ name: 'leaky', violations: [SECRET_CHECK] }),
      fn({
        name: 'chatty',
        auditDrift: [
          {
            field: 'logging',
            desired: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN', logGroup: 'x'.repeat(150) },
            actual: { format: 'Text' },
            policy: 'platform/api',
          },
        ],
      }),
    ]),
    summary: { policies: 2, matched: 2, compliant: 0, drifted: 1, overridden: 0, infeasible: 0, violating: 1 },
  };
  const report: RunReport = { plan: checked, skipped: {} };

  it('text: a violation is a report-only line naming the check, never wider than the width; the summary adds up', () => {
    const out = renderText(report, { width: 80 });

    expect(out).toMatch(/^ {4}! check noSecretsInEnvironment\s+DB_PASSWORD\s+\(violation: environment\s+variable/m);
    expect(out).toContain('{format: Text} -> {format: JSON, applicationLogLevel: INFO,');
    expect(Math.max(...out.split('\n').map((line) => line.length))).toBeLessThanOrEqual(80);
    expect(out).toContain('Checks: 1 function violate checks (report only)');
    expect(out.trimEnd().split('\n').at(-1)).toBe(summaryLine(checked));
    expect(outcomeCounts(checked)).toEqual({ change: 0, report: 2, refused: 0, compliant: 0 });
  });

  it('markdown lists the violation as a report row; json and yaml carry it with the check name', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| report | eu-central-1/leaky | check noSecretsInEnvironment | DB\\_PASSWORD (violation:');
    const doc = JSON.parse(renderJson(report)) as { functions: { name: string; violations: unknown[] }[] };
    expect(doc.functions.find((f) => f.name === 'leaky')?.violations).toEqual([SECRET_CHECK]);
    expect(parse(renderYaml(report))).toEqual(doc);
  });
});

describe('the safety rails in the outputs', () => {
  const guarded: Plan = {
    ...FLEET,
    functions: [
      ...FLEET.functions,
      fn({
        name: 'orders-cfn',
        auditDrift: [{ field: 'memorySize', desired: 1024, actual: 512, policy: 'platform/api' }],
        iac: {
          owner: {
            tool: 'CloudFormation',
            owner: 'CloudFormation stack orders-prod',
            resourceType: 'AWS::Lambda::Function',
          },
          policies: ['platform/api'],
        },
      }),
    ],
    policies: FLEET.policies.map((p, i) =>
      i === 0
        ? {
            ...p,
            rollout: {
              state: 'Paused' as const,
              changing: 30,
              matched: 40,
              allowed: 0,
              approved: false,
              exceeded: 'maxFunctions 20',
              message: 'would change 30 of 40 matched functions',
            },
          }
        : p,
    ),
    summary: { ...FLEET.summary, matched: FLEET.functions.length + 1 },
  };
  const GUARD =
    'guard: platform/api: would change 30 of 40 matched functions: STOPPED by the guard (more than maxFunctions 20): apply needs --approve';

  it('text: the IaC owner and template property on the held line, a guard line, one summary that adds up', () => {
    const text = renderText(report(guarded), { width: 100 });
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain(
      '! memorySize 512 -> 1024 (IaCManaged: MemorySize of AWS::Lambda::Function (CloudFormation stack orders-prod))',
    );
    expect(flat).toContain(GUARD);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    const c = outcomeCounts(guarded);
    expect(c.change + c.report + c.refused + c.compliant).toBe(guarded.summary.matched);
    expect(text.split('\n').filter((l) => l.startsWith('Plan: '))).toEqual([summaryLine(guarded)]);
  });

  it('markdown carries the guard line; json and yaml carry rollout and iac', () => {
    expect(renderMarkdown(report(guarded))).toContain(`- ${GUARD}`);
    for (const doc of [JSON.parse(renderJson(report(guarded))), parse(renderYaml(report(guarded)))]) {
      expect(doc.policies[0].rollout).toEqual({
        changing: 30,
        matched: 40,
        thisRun: 0,
        stopped: true,
        limit: 'maxFunctions 20',
        message: 'would change 30 of 40 matched functions',
      });
      expect(doc.functions.find((f: { name: string }) => f.name === 'orders-cfn').iac).toEqual({
        tool: 'CloudFormation',
        owner: 'CloudFormation stack orders-prod',
        resourceType: 'AWS::Lambda::Function',
        policies: ['platform/api'],
      });
    }
  });
});

describe('the account of each function in the outputs', () => {
  it('json and yaml carry account on every function (home by default), after apply too', () => {
    const home = JSON.parse(renderJson(report(FLEET))) as { functions: { account: string }[] };
    const other = JSON.parse(
      renderJson(report(FLEET, { account: 'payments', applied: { executions: [], after: FLEET } })),
    ) as { functions: { account: string }[]; after: { functions: { account: string }[] } };

    expect(home.functions.map((f) => f.account)).toEqual(FLEET.functions.map(() => 'home'));
    expect(other.functions.map((f) => f.account)).toEqual(FLEET.functions.map(() => 'payments'));
    expect(other.after.functions.map((f) => f.account)).toEqual(FLEET.functions.map(() => 'payments'));
    expect(renderYaml(report(FLEET, { account: 'payments' }))).toContain('- account: payments\n');
  });

  it('text and markdown name an account other than home, and leave the home output as it was', () => {
    expect(renderText(report(FLEET, { account: 'home' }))).toBe(renderText(report(FLEET)));
    expect(renderMarkdown(report(FLEET, { account: 'home' }))).toBe(renderMarkdown(report(FLEET)));
    expect(renderText(report(FLEET, { account: 'pay\u001b[2Jments' })).split('\n')[0]).toBe(
      `account ${escapeTerminal('pay\u001b[2Jments')}`,
    );
    expect(renderMarkdown(report(FLEET, { account: 'payments' }))).toContain('\naccount **payments**\n');
  });
});
