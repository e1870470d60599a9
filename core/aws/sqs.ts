/** The SQS client, one per container (`AWS_ENDPOINT_URL_SQS` locally). */
import { SQSClient } from '@aws-sdk/client-sqs';
import { countRequests } from './accounting';

let client: SQSClient | undefined;

export function sqs(): SQSClient {
  client ??= countRequests(new SQSClient({}));
  return client;
}

/**
 * A job as an SQS message body: JSON, with U+FFFE and U+FFFF escaped. SQS accepts only
 * #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF in a body;
 * `JSON.stringify` escapes control characters and lone surrogates but writes these two
 * as they are, so a text holding one would fail the send (InvalidMessageContents). The
 * escapes are ordinary JSON: `JSON.parse` gives the same value back.
 */
export function sqsBody(job: unknown): string {
  return JSON.stringify(job).replace(/[\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
