/**
 * `plan` end to end: the CLI in-process (`main(argv)`), the real AWS SDK over HTTP, the emulator seeded from a
 * fixture. The JSON document is compared with reviewed golden files (UPDATE_GOLDEN=1 rewrites them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  awsArgs,
  expectGolden,
  fixture,
  freePort,
  type PlanDoc,
  parsePlan,
  REPO,
  runCli,
  startTestEmulator,
  type TestEmulator,
} from './harness.ts';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const ACTION_RANK: Record<string, number> = {
  UpdateFunctionConfiguration: 0,
  UpdateFunctionCode: 1,
  PutFunctionConcurrency: 2,
  DeleteFunctionConcurrency: 2,
  RegisterScalableTarget: 3,
  PutScheduledAction: 3,
  DeleteScheduledAction: 3,
  PutProvisionedConcurrencyConfig: 3,
  DeleteProvisionedConcurrencyConfig: 3,
};

/** Contract rules every plan document keeps, whatever the fleet (checked on top of the golden comparison). */
function expectContractInvariants(doc: PlanDoc): void {
  const keys = doc.functions.map((f) => `${f.region}\u0000${f.name}`);
  expect(keys, 'functions sorted by region, then name').toEqual([...keys].sort());
  expect(new Set(keys).size, 'each function once').toBe(keys.length);
  for (const f of doc.functions) {
    const ranks = f.actions.map((a) => ACTION_RANK[a.api] ?? 99);
    expect(ranks, `${f.region}/${f.name}: actions ordered configuration, code, concurrency, provisioned`).toEqual(
      [...ranks].sort((a, b) => a - b),
    );
    expect(f.compliant, `${f.region}/${f.name}: compliant iff no drift/audit drift/refusal`).toBe(
      f.drift.length === 0 && f.auditDrift.length === 0 && f.refusals.length === 0,
    );
    // Audit policies never cause an action; a refused field never has one either.
    if (f.drift.length === 0) expect(f.actions).toEqual([]);
  }
  const s = doc.summary;
  expect(s.matched).toBe(doc.functions.length);
  expect(s.compliant).toBe(doc.functions.filter((f) => f.compliant).length);
  expect(s.policies).toBe(doc.policies.length);
}

describe('plan -o json against the purpose-made fleet', () => {
  it('prints the reviewed golden document and exits 2 (drift)', async () => {
    // Arrange
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    // Act
    const result = await runCli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    // Assert
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(2);
    await expectGolden(result.stdout, 'small-fleet.expected.json');
    const doc = parsePlan(result.stdout);
    expectContractInvariants(doc);
    const names = doc.functions.map((f) => `${f.region}/${f.name}`);
    expect(names).not.toContain('eu-central-1/api-orders-canary');
    expect(names).not.toContain('eu-central-1/unmatched-eu');
    expect(names).not.toContain('us-east-1/unmatched-us');
    // plan never writes
    expect(await emu.writes()).toEqual([]);
  });

  it('puts progress on stderr and nothing but the JSON document on stdout', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const result = await runCli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    expect(() => JSON.parse(result.stdout)).not.toThrow();
    expect(result.stdout).not.toContain('reading AWS');
    expect(result.stderr).toMatch(/^reading AWS: /m);
  });

  it('-o table prints one block per function, the policy table and one summary line that adds up', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const result = await runCli(['plan', '-f', fixture('policies'), '-o', 'table', ...awsArgs(emu.url)]);

    expect(result.code).toBe(2);
    const out = result.stdout;
    expect(out).toContain(
      [
        '~ eu-central-1/api-orders  (team-a/api)',
        '    ~ memorySize              512 -> 1024',
        '    ~ timeout                 30 -> 10',
        '    ~ architecture            x86_64 -> arm64',
        '    ~ reservedConcurrency     10 -> 20',
        '    + scheduledActions        scalable target function:api-orders:live',
        '    + scheduledActions        business.start cron(0 8 ? * MON-FRI *) Europe/Berlin 5',
        '    + scheduledActions        business.end cron(0 18 ? * MON-FRI *) Europe/Berlin 1',
        '    ~ provisionedConcurrency  1 -> 5',
        '    ! qualifier live          version 2: memorySize 512 (policy 1024), timeout 30 (policy 10),',
        '                              architecture x86_64 (policy arm64)  (PendingPublish: the next publish',
        '                              carries the fix)',
        // Registering the target moves the capacity to 5 itself: no PutProvisionedConcurrencyConfig races it.
        '      apply: UpdateFunctionConfiguration, UpdateFunctionCode, PutFunctionConcurrency,',
        '             RegisterScalableTarget, PutScheduledAction(2)',
        '',
      ].join('\n'),
    );
    // Two policies speak about api-big: their lines are grouped under each policy's name.
    expect(out).toMatch(/^~ eu-central-1\/api-big\n {4}# team-a\/api-big-memory\n {4}~ memorySize {14}1024 -> 2048$/m);
    expect(out).toMatch(/^~ us-east-1\/batch-nightly {2}\(default\/batch\)\n {4}~ timeout {14}300 -> 900$/m);
    expect(out).toContain('! us-east-1/worker-slow  (team-b/workers)\n    ! timeout       120 -> 60  (audit)\n');
    expect(out).toMatch(/^team-b\/workers\s+Audit\s+2\s+1\s+1\s+0\s+0\s+0\.00$/m);
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      'Plan: 4 to change, 1 to report, 0 refused, 1 compliant, of 6 functions',
    );
    expect(Math.max(...out.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
    // Unmatched functions never appear, not even as compliant rows; progress never reaches stdout.
    expect(out).not.toMatch(/unmatched|canary/);
    expect(out).not.toContain('reading AWS');
    expect(result.stderr).toMatch(/^reading AWS: /m);
  });

  it('-o table on examples/ (60 functions): no line wider than 100 columns, the counts add up to 60', async () => {
    emu = await startTestEmulator(`${REPO}/examples/fleet.yaml`);

    const result = await runCli(['plan', '-f', `${REPO}/examples/policies`, ...awsArgs(emu.url)]);

    expect(result.code).toBe(2);
    const lines = result.stdout.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(100);
    const summary = lines.filter((line) => line.startsWith('Plan: '));
    expect(summary).toHaveLength(1);
    const counts = [...(summary[0] ?? '').matchAll(/(\d+) (?:to change|to report|refused|compliant)/g)].map((m) =>
      Number(m[1]),
    );
    expect(counts).toHaveLength(4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    expect(summary[0]).toMatch(/, of 60 functions$/);
  });

  it('-o yaml is the JSON document; -o markdown a pull-request comment', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const json = await runCli(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);
    const yaml = await runCli(['plan', '-f', fixture('policies'), '-o', 'yaml', ...awsArgs(emu.url)]);
    const markdown = await runCli(['plan', '-f', fixture('policies'), '-o', 'markdown', ...awsArgs(emu.url)]);

    expect([json.code, yaml.code, markdown.code]).toEqual([2, 2, 2]);
    expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    expect(markdown.stdout).toMatch(/^### lambda-policy-controller plan\n/);
    expect(markdown.stdout).toContain('| change | eu-central-1/api-orders | memorySize | 512 → 1024 | team-a/api |');
    expect(markdown.stdout).toContain('**Plan: 4 to change, 1 to report, 0 refused, 1 compliant, of 6 functions**');
  });

  it('exits 0 when every matched function is compliant', async () => {
    emu = await startTestEmulator({
      functions: [
        { name: 'worker-ok', region: 'eu-central-1', timeout: 60, architecture: 'arm64', tags: { tier: 'worker' } },
      ],
    });

    const result = await runCli([
      'plan',
      '-f',
      fixture('policies/workers-audit.yaml'),
      '-o',
      'json',
      ...awsArgs(emu.url),
    ]);

    expect(result.code).toBe(0);
    const doc = parsePlan(result.stdout);
    expect(doc.summary).toMatchObject({ policies: 1, matched: 1, compliant: 1, drifted: 0 });
    expect(doc.functions[0]).toMatchObject({ name: 'worker-ok', compliant: true, drift: [], actions: [] });
  });
});

describe('plan -o json against examples/fleet.yaml with examples/policies', () => {
  it('prints the reviewed golden document and exits 2 (drift)', async () => {
    emu = await startTestEmulator(`${REPO}/examples/fleet.yaml`);

    const result = await runCli(['plan', '-f', `${REPO}/examples/policies`, '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.code).toBe(2);
    await expectGolden(result.stdout, 'examples.expected.json');
    expectContractInvariants(parsePlan(result.stdout));
    expect(await emu.writes()).toEqual([]);
  });
});

describe('plan errors exit 1', () => {
  it('an invalid policy file: stderr names the file and the field path, AWS is never called', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const bad = fixture('invalid/bad-memory.yaml');

    const result = await runCli(['plan', '-f', bad, '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toContain('spec.settings.memorySize');
    const calls = await emu.admin<{ total: number }>('GET', 'calls');
    expect(calls.total).toBe(0);
  });

  it('a missing policy path', async () => {
    const result = await runCli(['plan', '-f', fixture('no-such-dir'), '--regions', 'eu-central-1']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no-such-dir');
  });

  it('an unreachable AWS endpoint: a one-line error on stderr, nothing on stdout', async () => {
    const port = await freePort(); // bound and released: nothing listens there

    const result = await runCli([
      'plan',
      '-f',
      fixture('policies'),
      '-o',
      'json',
      ...awsArgs(`http://127.0.0.1:${port}`),
    ]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: .*ECONNREFUSED/m);
  });

  it('no region for a policy without selector.regions (no --regions, no AWS_REGION) is an error, not an empty match', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));
    const saved = { region: process.env.AWS_REGION, defaultRegion: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const result = await runCli(['plan', '-f', fixture('policies'), '--aws-endpoint', emu.url]);

      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('--regions');
      expect(result.stderr).toContain('default/batch');
    } finally {
      if (saved.region !== undefined) process.env.AWS_REGION = saved.region;
      if (saved.defaultRegion !== undefined) process.env.AWS_DEFAULT_REGION = saved.defaultRegion;
    }
  });
});
