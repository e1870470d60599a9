/**
 * Asynchronous invocations of Cirrus's own functions (Lambda `Invoke` with InvocationType
 * `Event`): Lambda queues the event durably, answers 202, runs the function, retries a
 * failed run twice and then hands the event to the on-failure destination.
 *
 * Sent without `@aws-sdk/client-lambda` (core/aws/signed-request.ts): the client carries the
 * schemas of every Lambda operation and error, about 72 KB in each bundle, for this one
 * REST-JSON POST to `/2015-03-31/functions/<name>/invocations` with `X-Amz-Invocation-Type:
 * Event`. IAM authorizes it as `lambda:InvokeFunction` on the function, as the client's
 * (`AWS_ENDPOINT_URL_LAMBDA` locally: the local Lambda's durable queue).
 */
import { config } from '../config';
import { faultPoint } from '../faults';
import type { FunctionKey } from '../manifest';
import { encodePathSegment, sendSigned } from './signed-request';

/** Lambda's limit on the payload of an asynchronous invocation (1 MB, raised from 256 KB in 2025). */
export const ASYNC_PAYLOAD_MAX_BYTES = 1_048_576;

/** Queues `event` for the function `key` (`self`: the caller is that function); resolves once Lambda has accepted it (202). */
export async function invokeAsync(key: FunctionKey, event: unknown, options: { self?: boolean } = {}): Promise<void> {
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > ASYNC_PAYLOAD_MAX_BYTES) throw new Error(`An asynchronous invocation of ${key} carries ${payload.length} bytes; Lambda takes at most ${ASYNC_PAYLOAD_MAX_BYTES}`);
  const functionName = config.functionName(key, options);
  faultPoint('invoke.beforeSend', { function: key, payload: payload.toString('utf8') });
  const res = await sendSigned({
    service: 'lambda',
    counted: { service: 'Lambda', command: 'Invoke', input: { FunctionName: functionName, InvocationType: 'Event' } },
    path: `/2015-03-31/functions/${encodePathSegment(functionName)}/invocations`,
    headers: { 'content-type': 'application/octet-stream', 'x-amz-invocation-type': 'Event' },
    body: payload,
  });
  if (res.status !== 202) throw new Error(`Lambda answered ${res.status} to an asynchronous invocation of ${key}`);
}
