/** Section 2: runs planning-child.ts in fresh processes (default V8 heap settings, then memory-lean ones). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { PlanningChildResult } from './planning-child.ts';

export interface PlanningRun extends PlanningChildResult {
  /** Node flags the child ran with ('' = defaults). */
  nodeFlags: string;
}

export const PLANNING_VARIANTS = ['', '--max-semi-space-size=2', '--optimize-for-size'] as const;

export async function runPlanningChild(
  url: string,
  regions: readonly string[],
  nodeFlags: string,
): Promise<PlanningRun> {
  const args = [
    ...(nodeFlags === '' ? [] : nodeFlags.split(' ')),
    join(import.meta.dirname, 'planning-child.ts'),
    url,
    regions.join(','),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || line === '') throw new Error(`planning child failed (${code}): ${stderr.slice(-2000)}`);
  return { ...(JSON.parse(line) as PlanningChildResult), nodeFlags };
}
