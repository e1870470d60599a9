/**
 * Asynchronous invocations of Cirrus's own functions (Lambda `Invoke` with InvocationType
 * `Event`): Lambda queues the event durably, answers 202, runs the function, retries a
 * failed run twice and then hands the event to the on-failure destination. One client per
 * container (`AWS_ENDPOINT_URL_LAMBDA` locally).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { config } from '../config';
import type { FunctionKey } from '../manifest';
import { countRequests } from './accounting';

/** Lambda's limit on the payload of an asynchronous invocation (1 MB, raised from 256 KB in 2025). */
export const ASYNC_PAYLOAD_MAX_BYTES = 1_048_576;

let client: LambdaClient | undefined;

export function lambda(): LambdaClient {
  client ??= countRequests(new LambdaClient({}));
  return client;
}

/** Queues `event` for the function `key` (`self`: the caller is that function); resolves once Lambda has accepted it (202). */
export async function invokeAsync(key: FunctionKey, event: unknown, options: { self?: boolean } = {}): Promise<void> {
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > ASYNC_PAYLOAD_MAX_BYTES) throw new Error(`An asynchronous invocation of ${key} carries ${payload.length} bytes; Lambda takes at most ${ASYNC_PAYLOAD_MAX_BYTES}`);
  const res = await lambda().send(new InvokeCommand({ FunctionName: config.functionName(key, options), InvocationType: 'Event', Payload: payload }));
  if (res.StatusCode !== 202) throw new Error(`Lambda answered ${res.StatusCode} to an asynchronous invocation of ${key}`);
}

export { InvokeCommand, LambdaClient, LambdaServiceException } from '@aws-sdk/client-lambda';
