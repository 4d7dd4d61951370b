/**
 * Shared setup of the AWS adapter integration tests: a real emulator on a free port, the real SDK through our
 * `createAws` facade, and small helpers for the emulator's admin endpoints (over HTTP, as any client would).
 */
import type { CallEvent } from '../../../src/aws/index.ts';
import { type Aws, type AwsConfig, createAws } from '../../../src/aws/index.ts';
import { type Emulator, type EmulatorOptions, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';

export interface Harness {
  emulator: Emulator;
  aws: Aws;
  events: CallEvent[];
  admin: (method: string, path: string, body?: unknown) => Promise<unknown>;
  stop: () => Promise<void>;
}

export async function startHarness(
  options: EmulatorOptions = {},
  awsConfig: Omit<AwsConfig, 'endpoint'> = {},
): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, tickMs: 0, ...options });
  const events: CallEvent[] = [];
  const aws = createAws({
    regions: ['eu-central-1'],
    // No AWS account needed: with an endpoint and no env credentials the facade uses dummy ones.
    env: {},
    // Fast enough for tests; throttling behaviour is exercised on purpose with the emulator's quotas.
    rates: { lambda: 200, 'lambda-getfunction': 400, autoscaling: 200, tagging: 200 },
    ...awsConfig,
    endpoint: emulator.url,
    onCall: (e) => {
      events.push(e);
      awsConfig.onCall?.(e);
    },
  });
  const admin = (method: string, path: string, body?: unknown): Promise<unknown> =>
    emulatorAdmin(emulator.url, method, path, body);
  return {
    emulator,
    aws,
    events,
    admin,
    stop: async () => {
      aws.destroy();
      await emulator.stop();
    },
  };
}

export interface WriteEntry {
  api: string;
  function?: string;
  resourceId?: string;
  params: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export async function writes(h: Harness): Promise<WriteEntry[]> {
  const body = (await h.admin('GET', 'writes')) as { writes: WriteEntry[] };
  return body.writes;
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
