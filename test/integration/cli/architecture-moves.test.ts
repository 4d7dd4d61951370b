/**
 * Architecture moves through the CLI and the real SDK against the emulator: a layer without the target
 * architecture and a runtime Lambda does not run there are refused in the plan (no write); a package holding a
 * native addon for the other CPU is refused by apply with the file named; a pure-JS package moves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeedFunction } from '../../../src/emulator/index.ts';
import { awsArgs, FIXTURES, fixture, parsePlan, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const REGION = 'eu-central-1';
const ARM = fixture('scenarios/arm64.yaml');

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

function zipFn(name: string, extra: Partial<SeedFunction> = {}): SeedFunction {
  return { name, region: REGION, architecture: 'x86_64', packageType: 'Zip', runtime: 'nodejs22.x', ...extra };
}

describe('architecture moves refused before writing', () => {
  it('a layer without arm64 and a runtime without arm64 are refused in the plan; the others move', async () => {
    emu = await startTestEmulator({
      functions: [
        zipFn('fn-layered', { layers: [{ name: 'sharp', compatibleArchitectures: ['x86_64'] }] }),
        zipFn('fn-old', { runtime: 'python3.7' }),
        zipFn('fn-fine', { layers: [{ name: 'utils', compatibleArchitectures: ['x86_64', 'arm64'] }] }),
      ],
    });

    const plan = await runCli(['plan', '-f', ARM, '-o', 'json', ...awsArgs(emu.url)]);
    const apply = await runCli(['apply', '-f', ARM, '-o', 'json', ...awsArgs(emu.url)]);

    expect(plan.code).toBe(2);
    const byName = Object.fromEntries(parsePlan(plan.stdout).functions.map((f) => [f.name, f]));
    expect(byName['fn-layered']).toMatchObject({
      actions: [],
      refusals: [{ field: 'architecture', reason: 'LayerArchitecture', policy: 'ops/arm64' }],
    });
    expect(byName['fn-layered']?.refusals[0]?.message).toMatch(
      /layer arn:aws:lambda:eu-central-1:\d{12}:layer:sharp:1 lists CompatibleArchitectures x86_64, not arm64/,
    );
    expect(byName['fn-old']).toMatchObject({
      actions: [],
      refusals: [{ field: 'architecture', reason: 'RuntimeArchitecture' }],
    });
    expect(byName['fn-fine']?.actions).toEqual([{ api: 'UpdateFunctionCode', architecture: 'arm64' }]);
    expect(apply.code).toBe(2);
    expect((await emu.writes()).map((w) => `${w.api}:${w.function}`)).toEqual(['UpdateFunctionCode:fn-fine']);
    expect(emu.functionState(REGION, 'fn-layered').architecture).toBe('x86_64');
    expect(emu.functionState(REGION, 'fn-old').architecture).toBe('x86_64');
  });

  it('apply refuses a package holding an x86-64 .node addon, naming the file; a pure-JS package moves', async () => {
    emu = await startTestEmulator({ functions: [] });
    const lambda = new LambdaClient({
      region: REGION,
      endpoint: emu.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    for (const [name, zip] of [
      ['fn-native', 'x64-addon.zip'],
      ['fn-js', 'pure-js.zip'],
    ] as const) {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::123456789012:role/lambda',
          Code: { ZipFile: readFileSync(join(FIXTURES, '..', 'zips', zip)) },
        }),
      );
    }
    lambda.destroy();

    const apply = await runCli(['apply', '-f', ARM, '-o', 'json', ...awsArgs(emu.url)]);

    expect(apply.code).not.toBe(0);
    const executions = parsePlan(apply.stdout).executions ?? [];
    const native = executions.find((e) => e.name === 'fn-native');
    expect(native?.ok).toBe(false);
    expect(JSON.stringify(native)).toContain('node_modules/sharp/build/Release/sharp-linux-x64.node');
    expect(executions.find((e) => e.name === 'fn-js')?.ok).toBe(true);
    const codeWrites = (await emu.writes()).filter((w) => w.api === 'UpdateFunctionCode').map((w) => w.function);
    expect(codeWrites).toEqual(['fn-js']);
    expect(emu.functionState(REGION, 'fn-native').architecture).toBe('x86_64');
    expect(emu.functionState(REGION, 'fn-js').architecture).toBe('arm64');
  });
});
