/**
 * The DynamoDB client, one per container. Endpoints come from the environment
 * (`AWS_ENDPOINT_URL_DYNAMODB`), so the same code talks to AWS or to DynamoDB Local.
 * One module per service keeps each function's bundle to the clients it uses.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countRequests } from './accounting';

let client: DynamoDBDocumentClient | undefined;

export function ddb(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(countRequests(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  return client;
}
