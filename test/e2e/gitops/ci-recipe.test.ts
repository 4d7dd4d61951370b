/**
 * The CI recipe (examples/ci/lambda-policy-plan.yaml) played locally, step by step, with the same commands: the
 * real `kubectl kustomize` builds a policies folder of mixed kinds, the checkout's CLI plans it from stdin against
 * an embedded emulator seeded like the CLI tests' fleet, a stand-in `gh` receives the PR comment, and the gate
 * step decides on the exit code.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, testInfraBinDir } from '../harness/index.ts';
import { type PlayResult, playWorkflow } from './support/play-workflow.ts';

const RECIPE = join(REPO_ROOT, 'examples', 'ci', 'lambda-policy-plan.yaml');
const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const CLI = `${NODE} ${join(REPO_ROOT, 'bin', 'lambda-policy-controller.js')}`;
const SEED = join(REPO_ROOT, 'test', 'fixtures', 'cli', 'small-fleet.yaml');
const NOW = '2026-12-01T09:00:00Z';

const cleanups: string[] = [];
afterEach(() => {
  for (const dir of cleanups.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(dir);
  return dir;
}

/** A `gh` that records each `pr comment` and, like the real one, fails `--edit-last` when there is no comment yet. */
function fakeGh(): { bin: string; comments: () => string[]; calls: () => string[] } {
  const bin = tempDir('lpc-fake-gh-');
  const state = join(bin, 'state');
  writeFileSync(
    join(bin, 'gh'),
    `#!/usr/bin/env bash
set -euo pipefail
mkdir -p '${state}'
echo "$*" >> '${state}/calls'
body=""
edit=no
while [ $# -gt 0 ]; do
  case "$1" in
    --body-file) body="$2"; shift 2 ;;
    --edit-last) edit=yes; shift ;;
    *) shift ;;
  esac
done
if [ "$edit" = yes ] && ! ls '${state}'/comment-* >/dev/null 2>&1; then
  echo "no comments found for current user" >&2
  exit 1
fi
n=$(ls '${state}' | grep -c '^comment-' || true)
cp "$body" "${state}/comment-$n.md"
`,
  );
  chmodSync(join(bin, 'gh'), 0o755);
  const read = (file: string) => {
    try {
      return readFileSync(join(state, file), 'utf8');
    } catch {
      return '';
    }
  };
  return {
    bin,
    calls: () => read('calls').split('\n').filter(Boolean),
    comments: () => {
      try {
        return readdirSync(state)
          .filter((f) => f.startsWith('comment-'))
          .sort()
          .map((f) => read(f));
      } catch {
        return [];
      }
    },
  };
}

/** A checkout of a policies repository: the fixture folder (kustomization.yaml, Namespaces, a ConfigMap, policies). */
function workspace(edit?: (policiesDir: string) => void): string {
  const dir = tempDir('lpc-checkout-');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'gitops', 'policies'), join(dir, 'policies'), { recursive: true });
  edit?.(join(dir, 'policies'));
  return dir;
}

function play(dir: string, gh: ReturnType<typeof fakeGh>, env: Record<string, string> = {}): PlayResult {
  return playWorkflow({
    workflowPath: RECIPE,
    job: 'plan',
    workspace: dir,
    github: { event: { pull_request: { number: 42 } } },
    env: {
      LPC: CLI,
      PLAN_ARGS: `--seed ${SEED} --now ${NOW}`,
      PATH: `${gh.bin}:${testInfraBinDir()}:${process.env.PATH ?? ''}`,
      ...env,
    },
  });
}

/** What the CLI prints for the policy files alone, in the same format (the comparison the stream must match). */
function markdownOfFiles(): string {
  const run = spawnSync(
    NODE,
    [
      join(REPO_ROOT, 'bin', 'lambda-policy-controller.js'),
      'plan',
      '-f',
      join(REPO_ROOT, 'test', 'fixtures', 'cli', 'policies'),
      '-o',
      'markdown',
      '--regions',
      'eu-central-1,us-east-1',
      '--seed',
      SEED,
      '--now',
      NOW,
    ],
    { encoding: 'utf8' },
  );
  expect(run.status).toBe(2);
  return run.stdout;
}

const outcomes = (result: PlayResult) => result.steps.map((s) => [s.name, s.outcome]);

describe('the CI recipe, played locally', () => {
  it('drift: the plan of the kustomize build is the plan of the files, posted as the PR comment; the gate passes', () => {
    const gh = fakeGh();

    const result = play(workspace(), gh);

    expect(outcomes(result)).toEqual([
      ['actions/checkout@v4', 'skipped'],
      ['actions/setup-node@v4', 'skipped'],
      ['aws-actions/configure-aws-credentials@v4', 'skipped'],
      ['Plan', 'success'],
      ['Comment on the pull request', 'success'],
      ['Gate on the exit code', 'success'],
    ]);
    expect(result.outputs.plan).toEqual({ 'exit-code': '2' });
    const [comment, ...more] = gh.comments();
    expect(more).toEqual([]);
    // The stream held 2 Namespaces and a generated ConfigMap besides the policies. Namespaces are read (their labels
    // decide AwsAccount grants) and, with no AwsAccount in the stream, change nothing; the ConfigMap is counted.
    const skipped = '\nSkipped 1 document of other kinds: 1 ConfigMap\n';
    expect(comment).toContain(skipped);
    expect(comment?.replace(skipped, '')).toBe(markdownOfFiles());
    expect(comment).toContain('**Plan: 4 to change, 1 to report, 0 refused, 1 compliant, of 6 functions**');
    expect(comment).toContain('| change | eu-central-1/api-orders | memorySize | 512 → 1024 | team-a/api |');
    expect(gh.calls()).toEqual([
      expect.stringMatching(/^pr comment 42 --edit-last --body-file /),
      expect.stringMatching(/^pr comment 42 --body-file /),
    ]);
    expect(result.summary).toBe(comment);
    expect(result.steps.at(-1)?.stdout).toContain('::notice::drift');
    expect(result.conclusion).toBe('success');
  });

  it('FAIL_ON_DRIFT=true: the same plan fails the check, the comment is still posted', () => {
    const gh = fakeGh();

    const result = play(workspace(), gh, { FAIL_ON_DRIFT: 'true' });

    expect(result.conclusion).toBe('failure');
    expect(outcomes(result).slice(3)).toEqual([
      ['Plan', 'success'],
      ['Comment on the pull request', 'success'],
      ['Gate on the exit code', 'failure'],
    ]);
    expect(gh.comments()).toHaveLength(1);
  });

  it('an invalid policy: exit 1, the comment shows the error with file, field and line; the gate fails', () => {
    const gh = fakeGh();
    const dir = workspace((policies) => {
      const file = join(policies, 'batch.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/timeout: \d+/, 'timeout: 901'));
    });

    const result = play(dir, gh);

    expect(result.outputs.plan).toEqual({ 'exit-code': '1' });
    expect(result.conclusion).toBe('failure');
    expect(outcomes(result).slice(3)).toEqual([
      ['Plan', 'success'],
      ['Comment on the pull request', 'success'],
      ['Gate on the exit code', 'failure'],
    ]);
    const [comment] = gh.comments();
    expect(comment).toMatch(/^### lambda-policy-controller plan failed\n/);
    expect(comment).toMatch(/error: <stdin>#\d+ batch: spec\.settings\.timeout: must be <= 900 \(line \d+\)/);
  });

  it('a second run edits the comment it posted before instead of adding one', () => {
    const gh = fakeGh();
    const dir = workspace();

    play(dir, gh);
    play(dir, gh);

    expect(gh.calls().filter((c) => c.includes('--edit-last'))).toHaveLength(2);
    expect(gh.comments()).toHaveLength(2); // the stand-in keeps each body; the second came through --edit-last
    expect(gh.calls()).toHaveLength(3);
  });
});
