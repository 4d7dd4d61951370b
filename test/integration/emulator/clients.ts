/** Real AWS SDK v3 clients pointed at an emulator: the same clients the controller uses in production. */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import { emulatorAdmin } from '../../../src/emulator/index.ts';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };

export interface Clients {
  lambda: LambdaClient;
  autoscaling: ApplicationAutoScalingClient;
  tagging: ResourceGroupsTaggingAPIClient;
  sts: STSClient;
}

/** maxAttempts 1 by default: tests that assert errors must see them, not the SDK's retries. */
export function clientsFor(endpoint: string, region = 'eu-central-1', maxAttempts = 1): Clients {
  const config = { endpoint, region, credentials, maxAttempts };
  return {
    lambda: new LambdaClient(config),
    autoscaling: new ApplicationAutoScalingClient(config),
    tagging: new ResourceGroupsTaggingAPIClient(config),
    sts: new STSClient(config),
  };
}

/** Resolves to the error a promise rejects with (fails the test when it resolves). */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function admin<T = unknown>(
  url: string,
  path: string,
  init?: { method?: string; body?: unknown },
): Promise<T> {
  return emulatorAdmin<T>(url, init?.method ?? (init?.body === undefined ? 'GET' : 'POST'), path, init?.body);
}
