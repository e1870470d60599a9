/** API Gateway's @connections client, one per stage endpoint and container. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { countRequests } from './accounting';

const clients = new Map<string, ApiGatewayManagementApiClient>();

export function management(endpoint: string): ApiGatewayManagementApiClient {
  let client = clients.get(endpoint);
  if (!client) {
    // The default 3 attempts would retry 410 Gone; push handles its retries itself.
    client = countRequests(new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1 }));
    clients.set(endpoint, client);
  }
  return client;
}
