/** The SQS client, one per container (`AWS_ENDPOINT_URL_SQS` locally). */
import { SQSClient } from '@aws-sdk/client-sqs';
import { countRequests } from './accounting';

let client: SQSClient | undefined;

export function sqs(): SQSClient {
  client ??= countRequests(new SQSClient({}));
  return client;
}
