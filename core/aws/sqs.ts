/**
 * Sending to SQS: SendMessage and SendMessageBatch, the only SQS calls the functions make
 * (jobs for the webhook queue, records given up on for DeadLetters). Each is one AWS JSON 1.0
 * POST (`X-Amz-Target: AmazonSQS.SendMessageBatch`), signed and sent without
 * `@aws-sdk/client-sqs` (core/aws/signed-request.ts), whose schemas of every SQS operation put
 * about 23 KB in each bundle, `$connect`'s and `$disconnect`'s among them (their
 * afterUserOnline/afterUserOffline callbacks). IAM authorizes them as `sqs:SendMessage` on
 * the queue, as the client's; errors carry SQS's names (`QueueDoesNotExist`, `AccessDenied` …).
 * As the client does, each sent body's MD5 that SQS answers is checked against the body's.
 * The operator's dead-letter routes use the client (core/aws/sqs-client.ts).
 */
import { createHash } from 'node:crypto';
import { sendSigned } from './signed-request';

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

export interface BatchEntry {
  readonly Id: string;
  readonly MessageBody: string;
}

/** What SendMessageBatch answers: the entries sent and those refused, by their `Id`. */
export interface BatchResult {
  readonly Successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[];
  readonly Failed: { Id: string; SenderFault: boolean; Code: string; Message?: string }[];
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

async function send(command: 'SendMessage' | 'SendMessageBatch', input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await sendSigned({
    service: 'sqs',
    counted: { service: 'SQS', command, input },
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${command}`, 'x-amzn-query-mode': 'true' },
    body: JSON.stringify(input),
  });
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** Sends one message; resolves with its MessageId. */
export async function sendMessage(queueUrl: string, body: string): Promise<string> {
  const out = (await send('SendMessage', { QueueUrl: queueUrl, MessageBody: body })) as { MessageId?: string; MD5OfMessageBody?: string };
  if (out.MD5OfMessageBody !== md5(body)) throw new Error('Invalid MD5 checksum on message: ' + out.MessageId);
  return out.MessageId ?? '';
}

/** Sends up to ten messages in one request; entries SQS refused are in `Failed`, by their `Id`. */
export async function sendMessageBatch(queueUrl: string, entries: readonly BatchEntry[]): Promise<BatchResult> {
  const out = (await send('SendMessageBatch', { QueueUrl: queueUrl, Entries: entries })) as Partial<BatchResult>;
  const result: BatchResult = { Successful: out.Successful ?? [], Failed: out.Failed ?? [] };
  const bodies = new Map(entries.map((e) => [e.Id, e.MessageBody]));
  const corrupt = result.Successful.filter((s) => bodies.has(s.Id) && s.MD5OfMessageBody !== md5(bodies.get(s.Id)!)).map((s) => s.MessageId);
  if (corrupt.length > 0) throw new Error('Invalid MD5 checksum on messages: ' + corrupt.join(', '));
  return result;
}
