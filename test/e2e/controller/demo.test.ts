/**
 * The demo from the built package: `npm run build` (tsc -> dist/), then the npm bin with Node's type stripping
 * turned off, which is what an installed package gets (Node refuses to strip types under node_modules): the bin
 * then loads dist/cli/main.js, and any import of a .ts file left in dist/ would fail. The demo must converge the
 * example fleet and exit 0.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCommand } from '../harness/index.ts';
import { BIN, NODE } from './support/controller-process.ts';

/** npm scripts run with the project's node_modules/.bin (Node 24) first on PATH, as `npm run` itself does. */
const env = { PATH: [join(REPO_ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter) };

describe('demo from the built package', () => {
  it('builds with npm run build and converges the example fleet with demo --once', async () => {
    // Arrange
    const build = await runCommand('npm', ['run', 'build'], { cwd: REPO_ROOT, env, check: false, timeoutMs: 300_000 });
    expect(build.exitCode, `${build.stdout}\n${build.stderr}`).toBe(0);
    expect(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))).toBe(true);

    // Act
    const demo = await runCommand(
      NODE,
      ['--no-experimental-strip-types', BIN, 'demo', '--once', '--port', '0', '--timeout', '150'],
      { cwd: REPO_ROOT, env, check: false, timeoutMs: 200_000 },
    );

    // Assert
    const output = `${demo.stdout}\n${demo.stderr}`;
    expect(demo.exitCode, output).toBe(0);
    expect(output).toMatch(/converged/);
  }, 420_000);
});
