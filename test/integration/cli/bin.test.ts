/**
 * The npm bin as real child processes: `plan` against an in-test emulator gives the same golden document as the
 * in-process run, and the README's two-terminal flow (`emulator` in one process, `plan` in another) works.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  awsArgs,
  BIN,
  cleanEnv,
  expectGolden,
  fixture,
  freePort,
  NODE,
  NOW,
  parsePlan,
  REGIONS,
  REPO,
  runBin,
  startTestEmulator,
  type TestEmulator,
  waitForLine,
} from './harness.ts';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

describe('bin/lambda-policy-controller.js', () => {
  it('plan -o json as a child process: exit 2 and the golden document on stdout, progress on stderr', async () => {
    emu = await startTestEmulator(fixture('small-fleet.yaml'));

    const result = await runBin(['plan', '-f', fixture('policies'), '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.code).toBe(2);
    await expectGolden(result.stdout, 'small-fleet.expected.json');
    expect(result.stderr).toMatch(/^reading AWS: /m);
  });

  it("the README's two terminals: `emulator --seed examples/fleet.yaml` then `plan -f examples/policies`", async () => {
    // Arrange: terminal 1
    const port = await freePort();
    const emulator = spawn(NODE, [BIN, 'emulator', '--seed', 'examples/fleet.yaml', '--port', String(port)], {
      cwd: REPO,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const listening = await waitForLine(emulator, /listening/);
      expect(listening).toContain(`http://127.0.0.1:${port}`);
      expect(listening).toContain('60 functions seeded');

      // Act: terminal 2
      const result = await runBin([
        'plan',
        '-f',
        'examples/policies',
        '--aws-endpoint',
        `http://127.0.0.1:${port}`,
        '--regions',
        REGIONS,
        '--now',
        NOW,
        '-o',
        'json',
      ]);

      // Assert: drift found, the same plan the in-process golden holds
      expect(result.code).toBe(2);
      const doc = parsePlan(result.stdout);
      expect(doc.summary).toMatchObject({ policies: 7, matched: 60, drifted: 60, violating: 51 });
      await expectGolden(result.stdout, 'examples.expected.json');
    } finally {
      // Terminal 1 is stopped the way a user would (Ctrl-C / SIGTERM) and says so on its way out
      const exited = once(emulator, 'exit');
      emulator.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    }
  });
});
