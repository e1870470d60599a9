/** API Gateway's @connections client, one per stage endpoint and container. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { countRequests } from './accounting';

const clients = new Map<string, ApiGatewayManagementApiClient>();

/** Keep-alive sockets per stage endpoint: at least the posts push keeps in flight (core/services/push.ts, POST_CONCURRENCY). */
export const POST_SOCKETS = 80;

export function management(endpoint: string): ApiGatewayManagementApiClient {
  let client = clients.get(endpoint);
  if (!client) {
    // The default 3 attempts would retry 410 Gone; push handles its retries itself. Sockets for
    // every post a push invocation keeps in flight (the SDK's default pool is 50).
    const agent = { maxSockets: POST_SOCKETS };
    client = countRequests(new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1, requestHandler: { httpsAgent: agent, httpAgent: agent } }));
    clients.set(endpoint, client);
  }
  return client;
}
