/**
 * Contract: STS AssumeRole and GetCallerIdentity, against the emulator and moto through the real AWS SDK. The
 * controller relies on: temporary credentials (ASIA key, secret, session token, Expiration one DurationSeconds
 * away), the assumed-role ARN naming account, role and session, and GetCallerIdentity under those credentials
 * answering the role's account (that is how an AwsAccount is verified).
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { type MotoServer, startMoto } from '../harness/moto.ts';

const REGION = 'us-east-1';
const HOME = '123456789012';
const OTHER = '210987654321';
const ROLE_ARN = `arn:aws:iam::${OTHER}:role/lambda-policy-controller`;
const EXTERNAL_ID = 'lpc-7f3a';

interface StsTarget {
  name: string;
  url: string;
  /** moto evaluates no trust policy and no DurationSeconds bounds: any role, ExternalId and duration pass. */
  strict: boolean;
  stop(): Promise<void>;
}

const TARGETS: { name: string; start: () => Promise<StsTarget> }[] = [
  {
    name: 'emulator',
    start: async () => {
      const emulator: Emulator = await startEmulator({
        port: 0,
        seed: {
          accountId: HOME,
          accounts: [{ accountId: OTHER, roles: [{ name: 'lambda-policy-controller', externalId: EXTERNAL_ID }] }],
        },
      });
      return { name: 'emulator', url: emulator.url, strict: true, stop: () => emulator.stop() };
    },
  },
  {
    name: 'moto',
    start: async () => {
      const binDir = process.env.LPC_MOTO_BIN_DIR;
      const moto: MotoServer = await startMoto({ region: REGION, ...(binDir ? { binDir } : {}) });
      return { name: 'moto', url: moto.url, strict: false, stop: () => moto.stop() };
    },
  },
];

describe.each(TARGETS)('STS contract: $name', ({ start }) => {
  let t: StsTarget;
  const sts = (
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'testing',
    },
  ) => new STSClient({ endpoint: t.url, region: REGION, credentials, maxAttempts: 1 });

  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('AssumeRole returns temporary credentials and the assumed-role user', async () => {
    const before = Date.now();
    const out = await sts().send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: 'lpc-session',
        ExternalId: EXTERNAL_ID,
        DurationSeconds: 900,
      }),
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{12,}$/);
    expect(out.Credentials?.SecretAccessKey?.length).toBeGreaterThan(20);
    expect(out.Credentials?.SessionToken?.length).toBeGreaterThan(20);
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(890_000);
    expect(expiresIn).toBeLessThan(910_000);
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${OTHER}:assumed-role/lambda-policy-controller/lpc-session`);
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]+:lpc-session$/);
  });

  it('GetCallerIdentity under the assumed credentials answers the role account', async () => {
    const out = await sts().send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'lpc-session', ExternalId: EXTERNAL_ID }),
    );
    const c = out.Credentials;
    const who = await sts({
      accessKeyId: c?.AccessKeyId ?? '',
      secretAccessKey: c?.SecretAccessKey ?? '',
      sessionToken: c?.SessionToken ?? '',
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(OTHER);
    expect(who.Arn).toBe(`arn:aws:sts::${OTHER}:assumed-role/lambda-policy-controller/lpc-session`);
  });

  it('DurationSeconds below 900 is a ValidationError (where the target checks bounds)', async () => {
    const result = await sts()
      .send(
        new AssumeRoleCommand({
          RoleArn: ROLE_ARN,
          RoleSessionName: 'lpc',
          ExternalId: EXTERNAL_ID,
          DurationSeconds: 60,
        }),
      )
      .then(
        () => 'accepted',
        (e: unknown) => (e as Error).name,
      );
    expect(result).toBe(t.strict ? 'ValidationError' : 'accepted');
  });

  it('a wrong ExternalId is AccessDenied (where the target evaluates trust policies)', async () => {
    const result = await sts()
      .send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'lpc', ExternalId: 'wrong' }))
      .then(
        () => 'accepted',
        (e: unknown) => (e as Error).name,
      );
    expect(result).toBe(t.strict ? 'AccessDenied' : 'accepted');
  });
});
