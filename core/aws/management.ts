/**
 * API Gateway's `@connections` API: PostToConnection and DeleteConnection on a stage's
 * callback endpoint (`CONNECTIONS_ENDPOINT`, `https://{api}.execute-api.{region}.amazonaws.com/{stage}`),
 * signed and sent without `@aws-sdk/client-apigatewaymanagementapi` (core/aws/signed-request.ts).
 * The client's REST-JSON protocol code and schemas put about 26 KB in every function that
 * pushes, for two requests: `POST /@connections/{id}` with the frame as the body and
 * `DELETE /@connections/{id}`, signed for `execute-api`. IAM authorizes them as
 * `execute-api:ManageConnections` on `…/{stage}/POST|DELETE/@connections/{id}`, as the client's.
 *
 * Errors keep the client's names and statuses: API Gateway names the error in the
 * `x-amzn-ErrorType` header (`GoneException` 410: the connection is closed or was never
 * established; `PayloadTooLargeException` 413; `LimitExceededException` 429;
 * `ForbiddenException` 403), with a body that may hold no JSON at all. One attempt each: push
 * retries throttling itself (core/services/push.ts), and a 410 must never be retried.
 */
import { faultPoint } from '../faults';
import { encodePathSegment, sendSigned } from './signed-request';

/** Keep-alive sockets per stage endpoint: at least the posts push keeps in flight (core/services/push.ts, POST_CONCURRENCY). */
export const POST_SOCKETS = 80;

const path = (connectionId: string) => `/@connections/${encodePathSegment(connectionId)}`;

/** Sends `data` (a text frame's UTF-8 bytes) to the connection; throws API Gateway's error (GoneException …). */
export async function postToConnection(endpoint: string, connectionId: string, data: Uint8Array): Promise<void> {
  faultPoint('connections.beforePost', { connectionId });
  await sendSigned({
    service: 'execute-api',
    endpoint,
    counted: { service: 'ApiGatewayManagementApi', command: 'PostToConnection', input: { ConnectionId: connectionId } },
    path: path(connectionId),
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
    maxAttempts: 1,
    maxSockets: POST_SOCKETS,
  });
}

/** Closes the connection from the server side; throws API Gateway's error (GoneException when already closed). */
export async function deleteConnection(endpoint: string, connectionId: string): Promise<void> {
  await sendSigned({
    service: 'execute-api',
    endpoint,
    counted: { service: 'ApiGatewayManagementApi', command: 'DeleteConnection', input: { ConnectionId: connectionId } },
    method: 'DELETE',
    path: path(connectionId),
    headers: {},
    maxAttempts: 1,
    maxSockets: POST_SOCKETS,
  });
}
