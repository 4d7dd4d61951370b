import { describe, expect, it } from 'vitest';
import {
  CONTROLLER_VERSION,
  createRegionClients,
  defaultRegion,
  resolveCredentials,
  sdkClientConfig,
  USER_AGENT_APP_ID,
} from '../../../src/aws/clients.ts';

describe('resolveCredentials', () => {
  it.each([
    ['no endpoint: default provider chain', {}, {}, undefined],
    ['no endpoint, even without env credentials: still the chain', { env: {} }, {}, undefined],
    [
      'endpoint and env keys: the chain (env wins)',
      { endpoint: 'http://127.0.0.1:4566' },
      { AWS_ACCESS_KEY_ID: 'AKIA' },
      undefined,
    ],
    [
      'endpoint and IRSA token file: the chain',
      { endpoint: 'http://x' },
      { AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' },
      undefined,
    ],
    [
      'endpoint and Pod Identity: the chain',
      { endpoint: 'http://x' },
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' },
      undefined,
    ],
    ['endpoint and a profile: the chain', { endpoint: 'http://x' }, { AWS_PROFILE: 'dev' }, undefined],
    ['endpoint and nothing: dummy static credentials', { endpoint: 'http://127.0.0.1:4566' }, {}, 'static'],
  ] as const)('%s', (_label, config, env, expected) => {
    const creds = resolveCredentials({ ...config, env });
    if (expected === 'static') expect(creds?.accessKeyId).toBeTruthy();
    else expect(creds).toBeUndefined();
  });

  it('explicit credentials always win', () => {
    const explicit = { accessKeyId: 'a', secretAccessKey: 'b' };
    expect(resolveCredentials({ credentials: explicit })).toBe(explicit);
  });
});

describe('sdkClientConfig', () => {
  it('disables SDK retries and names the controller in the user agent', async () => {
    const config = sdkClientConfig('eu-central-1', { endpoint: 'http://127.0.0.1:1', env: {} });
    expect(config.maxAttempts).toBe(1);
    expect(config.customUserAgent).toEqual([[USER_AGENT_APP_ID, CONTROLLER_VERSION]]);
    expect(CONTROLLER_VERSION).toMatch(/^\d+\.\d+\.\d+/);

    const clients = createRegionClients('eu-central-1', { endpoint: 'http://127.0.0.1:1', env: {} });
    expect(await clients.lambda.config.maxAttempts()).toBe(1);
    expect(await clients.lambda.config.userAgentAppId()).toBe(USER_AGENT_APP_ID);
    expect(await clients.autoscaling.config.region()).toBe('eu-central-1');
    clients.lambda.destroy();
    clients.autoscaling.destroy();
    clients.tagging.destroy();
    clients.sts.destroy();
  });
});

describe('defaultRegion', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' }, 'eu-west-1'],
    [{ AWS_DEFAULT_REGION: 'us-east-1' }, 'us-east-1'],
    [{}, undefined],
  ])('%o -> %s', (env, expected) => {
    expect(defaultRegion(env)).toBe(expected);
  });
});
