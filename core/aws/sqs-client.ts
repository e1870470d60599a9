/**
 * The SQS client, one per container (`AWS_ENDPOINT_URL_SQS` locally), for what only the
 * operator's dead-letter routes do (receive, redrive, delete, count). The functions' sends
 * (SendMessage, SendMessageBatch) go without it: core/aws/sqs.ts.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { countRequests } from './accounting';

let client: SQSClient | undefined;

export function sqs(): SQSClient {
  client ??= countRequests(new SQSClient({}));
  return client;
}
