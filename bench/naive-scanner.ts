/**
 * The baseline the controller is compared with: how a straightforward compliance scanner reads a Lambda fleet —
 * list every function, then per function GetFunctionConfiguration + GetFunctionConcurrency + ListTags — through the
 * real AWS SDK v3. Every one of those per-function calls draws from Lambda's shared 15 req/s bucket.
 * (It does not even read provisioned concurrency; that would cost more.)
 */
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListFunctionsCommand,
  type ListFunctionsCommandOutput,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';

export interface NaiveScan {
  region: string;
  functions: number;
  /** Calls per API, all in the shared Lambda bucket. */
  byApi: Record<string, number>;
  calls: number;
}

async function mapConcurrent<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await f(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function naiveScan(endpoint: string, region: string, concurrency = 48): Promise<NaiveScan> {
  const lambda = new LambdaClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'naive-scanner', secretAccessKey: 'x' },
  });
  const byApi: Record<string, number> = {};
  const count = (api: string) => {
    byApi[api] = (byApi[api] ?? 0) + 1;
  };
  try {
    const listed: { name: string; arn: string }[] = [];
    let marker: string | undefined;
    do {
      const page: ListFunctionsCommandOutput = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
      count('ListFunctions');
      for (const f of page.Functions ?? []) {
        if (f.FunctionName && f.FunctionArn) listed.push({ name: f.FunctionName, arn: f.FunctionArn });
      }
      marker = page.NextMarker || undefined;
    } while (marker !== undefined);

    await mapConcurrent(listed, concurrency, async (fn) => {
      await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.name }));
      count('GetFunctionConfiguration');
      await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: fn.name }));
      count('GetFunctionConcurrency');
      await lambda.send(new ListTagsCommand({ Resource: fn.arn }));
      count('ListTags');
    });
    const calls = Object.values(byApi).reduce((a, b) => a + b, 0);
    return { region, functions: listed.length, byApi, calls };
  } finally {
    lambda.destroy();
  }
}
