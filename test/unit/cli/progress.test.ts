import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../../src/aws/index.ts';
import { Progress } from '../../../src/cli/progress.ts';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY,
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

const call = (api: string, outcome: CallEvent['outcome'] = 'ok'): CallEvent => ({
  api,
  bucket: api === 'GetFunction' ? 'lambda-getfunction' : 'lambda',
  region: 'eu-central-1',
  outcome,
  durationMs: 1,
  attempt: 1,
});

describe('scan progress on stderr', () => {
  it('draws a bar over the per-function reads on a terminal', () => {
    // Arrange
    let t = 0;
    const out = stream(true);
    const progress = new Progress(out, () => t);

    // Act
    progress.onCall(call('ListFunctions'));
    progress.expectReads(4);
    for (const api of ['GetFunction', 'ListProvisionedConcurrencyConfigs']) {
      t += 200;
      progress.onCall(call(api));
    }

    // Assert: the last redraw shows half of the reads done
    const last = out.text().split('\r\x1b[2K').at(-1);
    expect(last).toBe(
      'reading AWS [############------------] 50% 2/4 per-function reads · GetFunction 1, ListFunctions 1, ListProvisionedConcurrencyConfigs 1',
    );
  });

  it('writes plain lines, at most one every 2 s (none for a scan shorter than that), when not on a terminal', () => {
    let t = 0;
    const out = stream(false);
    const progress = new Progress(out, () => t);

    progress.onCall(call('ListFunctions')); // t=0: a short scan says nothing
    t = 2100;
    progress.onCall(call('ListFunctions')); // 2 s in: a line
    t = 2600;
    progress.onCall(call('GetResources')); // too soon after it: no line
    t = 4200;
    progress.onCall(call('GetResources'));

    expect(out.text()).toBe('reading AWS: ListFunctions 2\nreading AWS: GetResources 2, ListFunctions 2\n');
  });

  it('never shows more reads done than expected, and ignores throttled attempts', () => {
    let t = 0;
    const out = stream(false);
    const progress = new Progress(out, () => t);
    progress.expectReads(1);

    for (const outcome of ['throttled', 'ok', 'ok'] as const) {
      t += 3000;
      progress.onCall(call('GetFunction', outcome));
    }

    expect(out.text().trim().split('\n').at(-1)).toBe('reading AWS: 1/1 per-function reads (GetFunction 3)');
  });
});
