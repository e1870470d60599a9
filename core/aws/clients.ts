/**
 * AWS SDK clients, one per service per container (created on first use, reused across
 * invocations as Lambda keeps the module warm). Endpoints come from the environment
 * (`AWS_ENDPOINT_URL_<SERVICE>`), so the same code talks to AWS or to the local runtime.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { countRequests } from './accounting';

let dynamo: DynamoDBDocumentClient | undefined;
let sqsClient: SQSClient | undefined;
let secretsClient: SecretsManagerClient | undefined;
let rdsDataClient: RDSDataClient | undefined;
const managementClients = new Map<string, ApiGatewayManagementApiClient>();

export function ddb(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(countRequests(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sqs(): SQSClient {
  sqsClient ??= countRequests(new SQSClient({}));
  return sqsClient;
}

export function secrets(): SecretsManagerClient {
  secretsClient ??= countRequests(new SecretsManagerClient({}));
  return secretsClient;
}

export function rdsData(): RDSDataClient {
  rdsDataClient ??= countRequests(new RDSDataClient({}));
  return rdsDataClient;
}

/** The @connections client for one WebSocket stage endpoint. */
export function management(endpoint: string): ApiGatewayManagementApiClient {
  let client = managementClients.get(endpoint);
  if (!client) {
    // The default 3 attempts would retry 410 Gone; push handles retries itself.
    client = countRequests(new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1 }));
    managementClients.set(endpoint, client);
  }
  return client;
}
