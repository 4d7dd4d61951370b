/**
 * Writes of the production settings that are not part of UpdateFunctionConfiguration: the unqualified function's
 * EventInvokeConfig (Put only when none exists — Put replaces the whole config, destinations included — else
 * Update, which keeps the destinations) and the retention of its log group.
 */
import { PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  type LoggingConfig,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import type { Action, DesiredLogging } from '../engine/model.ts';
import type { Aws } from './context.ts';

type AsyncAction = Extract<Action, { api: 'PutFunctionEventInvokeConfig' | 'UpdateFunctionEventInvokeConfig' }>;

export async function writeEventInvokeConfig(
  aws: Aws,
  region: string,
  name: string,
  action: AsyncAction,
): Promise<void> {
  const input = {
    FunctionName: name,
    ...(action.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: action.maximumRetryAttempts } : {}),
    ...(action.maximumEventAgeSeconds !== undefined ? { MaximumEventAgeInSeconds: action.maximumEventAgeSeconds } : {}),
  };
  await aws.call({ region, bucket: 'lambda', api: action.api }, (c) =>
    c.lambda.send(
      action.api === 'PutFunctionEventInvokeConfig'
        ? new PutFunctionEventInvokeConfigCommand(input)
        : new UpdateFunctionEventInvokeConfigCommand(input),
    ),
  );
}

export async function putRetentionPolicy(
  aws: Aws,
  region: string,
  logGroupName: string,
  retentionInDays: number,
): Promise<void> {
  await aws.call({ region, bucket: 'logs', api: 'PutRetentionPolicy' }, (c) =>
    c.logs.send(new PutRetentionPolicyCommand({ logGroupName, retentionInDays })),
  );
}

/**
 * The LoggingConfig of an UpdateFunctionConfiguration. The log group is sent as it is, so changing the format never
 * moves a function's logs; levels are sent only with JSON (Lambda refuses them with Text).
 */
export function loggingConfigFor(logging: DesiredLogging, logGroup: string | undefined): LoggingConfig {
  return {
    LogFormat: logging.format,
    ...(logGroup ? { LogGroup: logGroup } : {}),
    ...(logging.format === 'JSON' && logging.applicationLogLevel
      ? { ApplicationLogLevel: logging.applicationLogLevel as LoggingConfig['ApplicationLogLevel'] }
      : {}),
    ...(logging.format === 'JSON' && logging.systemLogLevel
      ? { SystemLogLevel: logging.systemLogLevel as LoggingConfig['SystemLogLevel'] }
      : {}),
  };
}
