/**
 * Owned scheduled actions are reconciled from what exists in AWS: once nothing declares them for a function any
 * more (selector narrowed, function retagged, policy file removed from the repository), `plan` shows them and
 * `apply` deletes them — while they stayed, they kept provisioned concurrency (and its bill) running.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagResourceCommand } from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAws } from '../../../src/aws/index.ts';
import { awsArgs, parsePlan, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGION = 'eu-central-1';

let emu: TestEmulator | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-owned-'));
});
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
  await rm(dir, { recursive: true, force: true });
});

function policyYaml(name: string, tags: Record<string, string>, windows = true): string {
  const tagLines = Object.entries(tags)
    .map(([k, v]) => `      ${k}: ${v}`)
    .join('\n');
  const block = windows
    ? `    provisionedConcurrency:
      qualifier: live
      value: 1
      windows:
        - { name: business, start: "0 8 * * 1-5", end: "0 19 * * 1-5", timezone: Europe/Berlin, value: 3 }`
    : '    memorySize: 256';
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: platform }
spec:
  selector:
    regions: [${REGION}]
    tags:
${tagLines}
  settings:
${block}
`;
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function start(): Promise<TestEmulator> {
  emu = await startTestEmulator({
    functions: [
      {
        name: 'api-a',
        region: REGION,
        tags: { tier: 'api' },
        reservedConcurrency: 50,
        aliases: [{ name: 'live', version: '1' }],
      },
      { name: 'other', region: REGION, tags: { tier: 'batch' } },
    ],
  });
  return emu;
}

const ownedNames = (e: TestEmulator) =>
  e
    .regionState(REGION)
    .scheduledActions.map((a) => a.name)
    .sort();

async function applyOk(e: TestEmulator, ...files: string[]): Promise<void> {
  const result = await runCli(['apply', ...files.flatMap((f) => ['-f', f]), '-o', 'json', ...awsArgs(e.url)]);
  expect([0, 2], result.stderr).toContain(result.code);
}

/** The owned actions `plan` wants deleted, as "function: action name". */
async function plannedDeletes(e: TestEmulator, ...files: string[]): Promise<string[]> {
  const result = await runCli(['plan', ...files.flatMap((f) => ['-f', f]), '-o', 'json', ...awsArgs(e.url)]);
  const doc = parsePlan(result.stdout);
  return doc.functions.flatMap((f) =>
    f.actions
      .filter((a) => a.api === 'DeleteScheduledAction')
      .map((a) => `${f.name}: ${String((a as { scheduledActionName?: string }).scheduledActionName)}`),
  );
}

const OWNED = [
  'lambda-policy-controller.platform.pc.business.end',
  'lambda-policy-controller.platform.pc.business.start',
];

describe('owned scheduled actions nothing declares any more', () => {
  it('selector narrowed: plan shows the deletes, apply removes them, the next plan is clean', async () => {
    const e = await start();
    await applyOk(e, await file('pc.yaml', policyYaml('pc', { tier: 'api' })));
    expect(ownedNames(e)).toEqual(OWNED);

    const narrowed = await file('pc.yaml', policyYaml('pc', { tier: 'api', team: 'none' }));
    expect(await plannedDeletes(e, narrowed)).toEqual(OWNED.map((n) => `api-a: ${n}`));
    await applyOk(e, narrowed);
    expect(ownedNames(e)).toEqual([]);
    expect(await plannedDeletes(e, narrowed)).toEqual([]);
  });

  it('function retagged out of the selector: its actions are removed', async () => {
    const e = await start();
    const pc = await file('pc.yaml', policyYaml('pc', { tier: 'api' }));
    await applyOk(e, pc);
    expect(ownedNames(e)).toEqual(OWNED);

    const aws = createAws({ regions: [REGION], endpoint: e.url, env: {} });
    try {
      const arn = e.functionState(REGION, 'api-a').arn;
      await aws.clients(REGION).lambda.send(new TagResourceCommand({ Resource: arn, Tags: { tier: 'retired' } }));
    } finally {
      aws.destroy();
    }
    await applyOk(e, pc);
    expect(ownedNames(e)).toEqual([]);
  });

  it('policy file removed from the repository: its actions are removed, the remaining policy is applied', async () => {
    const e = await start();
    const pc = await file('pc.yaml', policyYaml('pc', { tier: 'api' }));
    const batch = await file('batch.yaml', policyYaml('batch', { tier: 'batch' }, false));
    await applyOk(e, pc, batch);
    expect(ownedNames(e)).toEqual(OWNED);

    await rm(pc);
    await applyOk(e, batch);
    expect(ownedNames(e)).toEqual([]);
    // Nothing but the deletes was written to the function no policy governs any more.
    const writes = (await e.writes()).filter((w) => (w.resourceId ?? w.function ?? '').includes('api-a'));
    const afterRemoval = writes.slice(writes.findLastIndex((w) => w.api !== 'DeleteScheduledAction') + 1);
    expect(afterRemoval.map((w) => w.api)).toEqual(['DeleteScheduledAction', 'DeleteScheduledAction']);
  });
});
