/**
 * The safety rails in the CLI, through the real SDK against the emulator: functions owned by infrastructure as code
 * (CloudFormation-tagged: IaCManaged in plan, no writes on apply; iacManaged: Enforce fixes them), the rollout
 * guard's numbers in plan, and bad input to the new flags and fields.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsArgs, parsePlan, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGION = 'eu-central-1';
const CFN_TAGS = { 'aws:cloudformation:stack-name': 'orders-prod', 'aws:cloudformation:logical-id': 'OrdersFn' };

let emu: TestEmulator | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-safety-'));
});
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
  await rm(dir, { recursive: true, force: true });
});

function policy(spec: string): string {
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: platform }
spec:
  selector: { regions: [${REGION}], tags: { team: orders } }
  settings: { memorySize: 1024 }
${spec}`;
}

async function writePolicy(spec = ''): Promise<string> {
  const path = join(dir, 'policy.yaml');
  await writeFile(path, policy(spec));
  return path;
}

const SEED = {
  functions: [
    { name: 'orders-cfn', region: REGION, memorySize: 512, tags: { team: 'orders', ...CFN_TAGS } },
    { name: 'orders-sam', region: REGION, memorySize: 512, tags: { team: 'orders', 'lambda:createdBy': 'SAM' } },
    { name: 'orders-tf', region: REGION, memorySize: 512, tags: { team: 'orders', ManagedBy: 'terraform' } },
    { name: 'orders-free', region: REGION, memorySize: 512, tags: { team: 'orders' } },
  ],
};
const TF = ['--iac-owner-tags', 'ManagedBy=terraform'];

describe('functions owned by infrastructure as code', () => {
  it('Enforce (iacManaged defaults to Audit): plan says IaCManaged with the template property; apply writes none of them', async () => {
    emu = await startTestEmulator(SEED);
    const file = await writePolicy();

    const planned = await runCli(['plan', '-f', file, '-o', 'json', ...TF, ...awsArgs(emu.url)]);
    expect(planned.code).toBe(2);
    const doc = parsePlan(planned.stdout);
    const owners = Object.fromEntries(
      doc.functions.map((f) => [
        f.name,
        (f as { iac?: { tool: string; owner: string; resourceType: string; policies: string[] } }).iac,
      ]),
    );
    expect(owners['orders-cfn']).toEqual({
      tool: 'CloudFormation',
      owner: 'CloudFormation stack orders-prod',
      resourceType: 'AWS::Lambda::Function',
      policies: ['platform/memory'],
    });
    expect(owners['orders-sam']?.resourceType).toBe('AWS::Serverless::Function');
    expect(owners['orders-tf']).toMatchObject({
      owner: 'tag ManagedBy=terraform',
      resourceType: 'aws_lambda_function',
    });
    expect(owners['orders-free']).toBeUndefined();
    for (const name of ['orders-cfn', 'orders-sam', 'orders-tf']) {
      const f = doc.functions.find((x) => x.name === name);
      expect(f?.actions).toEqual([]);
      expect(f?.auditDrift).toEqual([{ field: 'memorySize', desired: 1024, actual: 512, policy: 'platform/memory' }]);
    }

    const table = await runCli(['plan', '-f', file, ...TF, ...awsArgs(emu.url)]);
    // The text wraps long notes: compare with runs of spaces and line breaks read as one space.
    const text = table.stdout.replace(/\s+/g, ' ');
    expect(text).toContain(
      '! eu-central-1/orders-cfn (platform/memory) ! memorySize 512 -> 1024 (IaCManaged: MemorySize of AWS::Lambda::Function (CloudFormation stack orders-prod))',
    );
    expect(text).toContain('IaCManaged: memory_size of aws_lambda_function (tag ManagedBy=terraform)');
    expect(text).toContain('Plan: 1 to change, 3 to report, 0 refused, 0 compliant, of 4 functions');

    const applied = await runCli(['apply', '-f', file, '-o', 'json', ...TF, ...awsArgs(emu.url)]);
    expect(applied.code).toBe(2);
    const written = (await emu.writes()).map((w) => w.function);
    expect(written).toEqual(['orders-free']);
    expect(emu.functionState(REGION, 'orders-cfn').memorySize).toBe(512);
  });

  it('iacManaged: Enforce fixes them; Skip leaves them out of the match', async () => {
    emu = await startTestEmulator(SEED);
    const enforce = await writePolicy('  iacManaged: Enforce\n');
    const applied = await runCli(['apply', '-f', enforce, '-o', 'json', ...TF, ...awsArgs(emu.url)]);
    expect(applied.code).toBe(0);
    expect((await emu.writes()).map((w) => w.function).sort()).toEqual([
      'orders-cfn',
      'orders-free',
      'orders-sam',
      'orders-tf',
    ]);
    expect(emu.functionState(REGION, 'orders-cfn').memorySize).toBe(1024);

    const skip = await writePolicy('  iacManaged: Skip\n');
    const planned = parsePlan((await runCli(['plan', '-f', skip, '-o', 'json', ...TF, ...awsArgs(emu.url)])).stdout);
    expect(planned.functions.map((f) => f.name)).toEqual(['orders-free']);
  });
});

describe('the rollout guard in plan', () => {
  it('shows per policy what it would change and whether the guard stops it', async () => {
    emu = await startTestEmulator({
      functions: Array.from({ length: 30 }, (_, i) => ({
        name: `orders-${i}`,
        region: REGION,
        memorySize: 512,
        tags: { team: 'orders' },
      })),
    });
    const limited = await writePolicy('  rollout: { maxFunctions: 20, batchSize: 5 }\n');
    const json = parsePlan((await runCli(['plan', '-f', limited, '-o', 'json', ...awsArgs(emu.url)])).stdout);
    expect(json.policies[0]?.rollout).toEqual({
      changing: 30,
      matched: 30,
      thisRun: 5,
      stopped: true,
      limit: 'maxFunctions 20',
      message: 'would change 30 of 30 matched functions: changing 5 in this batch, 25 left for later batches',
    });
    const table = await runCli(['plan', '-f', limited, ...awsArgs(emu.url)]);
    expect(table.stdout.replace(/\s+/g, ' ')).toContain(
      'guard: platform/memory: would change 30 of 30 matched functions: STOPPED by the guard (more than maxFunctions 20): apply needs --approve',
    );

    // apply: refused without --approve, nothing written; with --approve one batch of 5 is written
    const refused = await runCli(['apply', '-f', limited, ...awsArgs(emu.url)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused: platform/memory: would change 30 of 30 matched functions');
    expect(await emu.writes()).toEqual([]);
    const approved = await runCli(['apply', '-f', limited, '--approve', '-o', 'json', ...awsArgs(emu.url)]);
    expect(approved.code).toBe(2);
    expect(await emu.writes()).toHaveLength(5);

    // the default guard (25%, more than 10 functions) stops a policy without spec.rollout; a higher one does not
    const plain = await writePolicy();
    const byDefault = parsePlan((await runCli(['plan', '-f', plain, '-o', 'json', ...awsArgs(emu.url)])).stdout);
    expect(byDefault.policies[0]?.rollout).toMatchObject({ changing: 25, stopped: true });
    const relaxed = parsePlan(
      (await runCli(['plan', '-f', plain, '-o', 'json', '--max-changes-percent', '100', ...awsArgs(emu.url)])).stdout,
    );
    expect(relaxed.policies[0]?.rollout).toMatchObject({ changing: 25, stopped: false });
  });
});

describe('bad input', () => {
  it.each([
    ['0', 'must be an integer percentage from 1 to 100, got "0"'],
    ['-5', 'must be an integer percentage from 1 to 100'],
    ['101', 'must be an integer percentage from 1 to 100'],
    ['1e3', 'must be an integer percentage from 1 to 100'],
    ['ten', 'must be an integer percentage from 1 to 100'],
  ])('--max-changes-percent %s is refused', async (value, message) => {
    const file = await writePolicy();
    const result = await runCli(['plan', '-f', file, '--max-changes-percent', value, '--regions', REGION]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it('--iac-owner-tags with an empty value is refused', async () => {
    const file = await writePolicy();
    const result = await runCli(['plan', '-f', file, '--iac-owner-tags', 'ManagedBy=', '--regions', REGION]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('write KEY=VALUE with a value of 1-256 characters');
  });

  it.each([
    ['  rollout: { maxFunctions: -1 }\n', 'spec.rollout.maxFunctions'],
    ['  rollout: { maxFunctions: 0 }\n', 'spec.rollout.maxFunctions'],
    ['  rollout: { maxPercent: 101 }\n', 'spec.rollout.maxPercent'],
    ['  rollout: { batchSize: 10000000 }\n', 'spec.rollout.batchSize'],
    ['  rollout: { maxFunctions: 5, batchSize: 10 }\n', 'must not exceed maxFunctions'],
    ['  rollout: { maxFunctions: "ten" }\n', 'spec.rollout.maxFunctions'],
    ['  iacManaged: Ignore\n', 'spec.iacManaged'],
  ])('%j is a validation error naming the field', async (spec, message) => {
    const file = await writePolicy(spec);
    const result = await runCli(['plan', '-f', file, '--regions', REGION]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
