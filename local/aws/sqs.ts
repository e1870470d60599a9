/**
 * A local SQS standard queue service, spoken to over SQS's AWS JSON 1.0 protocol by the
 * real `@aws-sdk/client-sqs`, and in process by the local runtime's event sources.
 *
 * What it emulates, because Cirrus's correctness depends on it: at-least-once delivery
 * with visibility timeouts, a receive count per message, redrive to a dead-letter queue
 * once a message would be received more than `maxReceiveCount` times, delays, long
 * polling, the MD5 checksums the SDK verifies, and AWS's error codes. What it does not:
 * FIFO queues, policies, tags, encryption, the 60-second PurgeQueue cooldown (it would
 * only slow local resets down) and the randomness of which messages a receive samples
 * (this one hands them out oldest first).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { md5Hex, md5OfMessageAttributes, type SqsMessageAttribute } from './sqs-md5';
import { StateFile } from './state-file';
import { accessKeyOf, jsonResponse, jsonRpcError, parseJsonBody, targetOperation } from './responses';
import type { StandIn, StandInRequest, StandInResponse } from './types';

export type { SqsMessageAttribute } from './sqs-md5';

const ACCOUNT_ID = '000000000000';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BATCH_ENTRIES = 10;
/** SQS raised the message size limit from 256 KiB to 1 MiB in 2025; a batch may carry the same in total. */
const MAX_MESSAGE_BYTES = 1_048_576;

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/**
 * HTTP status and Query-protocol code of each error, from the `awsQueryError` and
 * `httpError` traits of the SDK's model. `InvalidParameterValue` and `MissingParameter`
 * are not modelled; the SDK surfaces them as `SQSServiceException` named after the code,
 * which is what it does against AWS too.
 */
const errorWire = {
  QueueDoesNotExist: { status: 400, queryCode: 'AWS.SimpleQueueService.NonExistentQueue' },
  QueueNameExists: { status: 400, queryCode: 'QueueAlreadyExists' },
  ReceiptHandleIsInvalid: { status: 404, queryCode: 'ReceiptHandleIsInvalid' },
  MessageNotInflight: { status: 400, queryCode: 'AWS.SimpleQueueService.MessageNotInflight' },
  EmptyBatchRequest: { status: 400, queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest' },
  TooManyEntriesInBatchRequest: { status: 400, queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest' },
  BatchEntryIdsNotDistinct: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' },
  InvalidBatchEntryId: { status: 400, queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId' },
  BatchRequestTooLong: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong' },
  UnsupportedOperation: { status: 400, queryCode: 'AWS.SimpleQueueService.UnsupportedOperation' },
  InvalidAttributeName: { status: 400, queryCode: 'InvalidAttributeName' },
  InvalidAttributeValue: { status: 400, queryCode: 'InvalidAttributeValue' },
  InvalidMessageContents: { status: 400, queryCode: 'InvalidMessageContents' },
  InvalidParameterValue: { status: 400, queryCode: 'InvalidParameterValue' },
  MissingParameter: { status: 400, queryCode: 'MissingParameter' },
} as const;

export type SqsErrorCode = keyof typeof errorWire;

/** A failure of an SQS operation, thrown by the in-process API and turned into AWS's error response over HTTP. */
export class SqsError extends Error {
  constructor(
    readonly code: SqsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SqsError';
  }

  toResponse(): StandInResponse {
    const wire = errorWire[this.code];
    return jsonRpcError(
      { status: wire.status, type: `com.amazonaws.sqs#${this.code}`, message: this.message, queryError: `${wire.queryCode};Sender` },
      CONTENT_TYPE,
    );
  }
}

const noSuchQueue = () => new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
const invalidValue = (name: string, value: unknown, reason: string) =>
  new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`);

// ---------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface QueueOptions {
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 0 */
  readonly delaySeconds?: number;
  /** @default 345600 (4 days) */
  readonly messageRetentionSeconds?: number;
  /** Long-poll wait applied when a receive does not ask for one. @default 0 */
  readonly receiveWaitTimeSeconds?: number;
  readonly redrivePolicy?: RedrivePolicy;
}

interface QueueSettings {
  visibilityTimeout: number;
  delaySeconds: number;
  messageRetentionPeriod: number;
  receiveWaitTimeSeconds: number;
  maximumMessageSize: number;
  redrivePolicy?: RedrivePolicy;
  /** Attributes accepted and echoed but not acted on (Policy, KmsMasterKeyId, ...). */
  other: Record<string, string>;
}

interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, SqsMessageAttribute>;
  traceHeader?: string;
  senderId: string;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Epoch ms from which the message may be received; later than now while delayed or in flight. */
  visibleAt: number;
  /** Received at least once since it was last made visible; tells in-flight from delayed. */
  inFlight: boolean;
  /** Nonce of the latest receive, embedded in its receipt handle. */
  receipt?: string;
  deadLetterSourceArn?: string;
}

interface Queue {
  name: string;
  createdAt: number;
  modifiedAt: number;
  settings: QueueSettings;
  /** Insertion-ordered, so receives hand out the oldest visible messages first. */
  messages: Map<string, StoredMessage>;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
    readonly AWSTraceHeader?: string;
    readonly DeadLetterQueueSourceArn?: string;
  };
  readonly messageAttributes: Readonly<Record<string, SqsMessageAttribute>>;
  readonly md5OfMessageAttributes?: string;
}

export interface SentMessage {
  readonly messageId: string;
  readonly md5OfMessageBody: string;
  readonly md5OfMessageAttributes?: string;
}

export interface SendOptions {
  readonly delaySeconds?: number;
  /** Recorded as the `SenderId` system attribute. @default 'local' */
  readonly senderId?: string;
  /** The `AWSTraceHeader` system attribute. */
  readonly traceHeader?: string;
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, SqsMessageAttribute>>;
  readonly receiveCount: number;
  readonly state: 'visible' | 'inFlight' | 'delayed';
}

export interface LocalSqsOptions {
  /** Origin queue URLs are built on, e.g. `http://127.0.0.1:4566`; settable later through `baseUrl`. */
  readonly baseUrl?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** JSON file holding queues and messages across restarts; in memory only when absent. */
  readonly file?: string;
}

interface SavedState {
  version: 1;
  queues: { name: string; createdAt: number; modifiedAt: number; settings: QueueSettings; messages: StoredMessage[] }[];
}

/** Message changes since the last snapshot, replayed over it at start. */
type JournalEntry =
  | { op: 'put'; queue: string; message: StoredMessage }
  | { op: 'delete'; queue: string; id: string }
  | { op: 'receive'; queue: string; id: string; receiveCount: number; firstReceiveAt: number }
  | { op: 'purge'; queue: string };

/** Operations answered only once their effect is on disk, as SQS acknowledges only what it has stored. */
const DURABLE_OPERATIONS = new Set(['SendMessage', 'SendMessageBatch', 'DeleteMessage', 'DeleteMessageBatch', 'PurgeQueue']);
/** Queue-level operations, rare enough to write a whole snapshot before answering. */
const SNAPSHOT_OPERATIONS = new Set(['CreateQueue', 'DeleteQueue', 'SetQueueAttributes']);

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const;
type SystemAttributeName = (typeof SYSTEM_ATTRIBUTES)[number];

// ---------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
// The characters the SQS docs allow in bodies and attribute values; anything else (lone surrogates, most C0 controls) is rejected.
const INVALID_CHARACTERS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidValue(name, value, `Must be an integer between ${min} and ${max}.`);
  }
  return n;
}

function optionalInteger(name: string, value: unknown, min: number, max: number): number | undefined {
  return value === undefined || value === null ? undefined : integerIn(name, value, min, max);
}

function requiredString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string') throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}

function checkCharacters(text: string, what: string): void {
  if (INVALID_CHARACTERS.test(text)) {
    throw new SqsError(
      'InvalidMessageContents',
      `Invalid characters found in ${what}. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
    );
  }
}

function validateMessageAttributes(raw: unknown): Record<string, SqsMessageAttribute> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidValue('MessageAttributes', raw, 'Must be a map.');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > 10) {
    throw invalidValue('MessageAttributes', entries.length, 'Number of message attributes cannot exceed 10.');
  }
  const out: Record<string, SqsMessageAttribute> = {};
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || /^(aws\.|amazon\.)/i.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw invalidValue('MessageAttributes', name, `Message attribute name '${name}' is invalid.`);
    }
    const attr = value as Partial<SqsMessageAttribute> | undefined;
    const dataType = attr?.DataType;
    if (typeof dataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw invalidValue('MessageAttributes', name, `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    if (dataType.startsWith('Binary')) {
      if (typeof attr?.BinaryValue !== 'string' || attr.BinaryValue === '') {
        throw invalidValue('MessageAttributes', name, `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      out[name] = { DataType: dataType, BinaryValue: attr.BinaryValue };
    } else {
      if (typeof attr?.StringValue !== 'string' || attr.StringValue === '') {
        throw invalidValue('MessageAttributes', name, `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType.split('.')[0]}'.`);
      }
      if (dataType.startsWith('Number') && !Number.isFinite(Number(attr.StringValue))) {
        throw invalidValue('MessageAttributes', name, `Can't convert value '${attr.StringValue}' for message attribute '${name}' to a number.`);
      }
      checkCharacters(attr.StringValue, `message attribute '${name}'`);
      out[name] = { DataType: dataType, StringValue: attr.StringValue };
    }
  }
  return out;
}

function messageBytes(body: string, attributes: Record<string, SqsMessageAttribute> | undefined): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, attr] of Object.entries(attributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(attr.DataType);
    size += attr.StringValue !== undefined ? Buffer.byteLength(attr.StringValue) : Buffer.from(attr.BinaryValue ?? '', 'base64').length;
  }
  return size;
}

function parseRedrivePolicy(raw: string): RedrivePolicy {
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.`);
  }
  if (typeof parsed.deadLetterTargetArn !== 'string' || !/^arn:aws:sqs:[^:]+:\d{12}:[A-Za-z0-9_-]{1,80}$/.test(parsed.deadLetterTargetArn)) {
    throw new SqsError('InvalidAttributeValue', 'Value for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn.');
  }
  const count = Number(parsed.maxReceiveCount);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new SqsError('InvalidAttributeValue', 'Value for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: must be between 1 and 1000.');
  }
  return { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: count };
}

function matchesAttributeFilter(name: string, filters: readonly string[]): boolean {
  return filters.some((f) => f === 'All' || f === '.*' || f === name || (f.endsWith('.*') && name.startsWith(f.slice(0, -1))));
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

// ---------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------

export class LocalSqs implements StandIn {
  readonly region: string;
  private base: string;
  private readonly queues = new Map<string, Queue>();
  private readonly listeners = new Map<string, Set<() => void>>();
  /** One timer per queue, due when its earliest invisible message becomes visible, so waiters wake then. */
  private readonly wakeTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly longPolls = new Set<() => void>();
  private readonly state: StateFile<SavedState, JournalEntry> | undefined;
  private closed = false;

  constructor(options: LocalSqsOptions = {}) {
    this.base = (options.baseUrl ?? 'http://127.0.0.1:4566').replace(/\/+$/, '');
    this.region = options.region ?? 'us-east-1';
    if (options.file) {
      this.state = new StateFile<SavedState, JournalEntry>(options.file, () => this.snapshot());
      const { state, journal } = this.state.load();
      if (state || journal.length > 0) {
        this.restore(state ?? { version: 1, queues: [] }, journal);
        // Folds the journal into a new snapshot, so it is replayed once.
        this.state.saveNow();
      }
    }
  }

  /** The origin queue URLs point at; the local server sets it once it knows its port. */
  get baseUrl(): string {
    return this.base;
  }

  set baseUrl(url: string) {
    this.base = url.replace(/\/+$/, '');
  }

  queueUrl(name: string): string {
    return `${this.base}/${ACCOUNT_ID}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`;
  }

  // ---- in-process API -------------------------------------------------------------

  /**
   * Creates a queue, or applies the given settings to the existing one. Unlike the
   * CreateQueue operation (which fails with QueueNameExists when settings differ), this
   * behaves like a deployment: the local runtime re-declares its queues on every start,
   * over state saved by an earlier version of the manifest.
   */
  createQueue(name: string, options: QueueOptions = {}): { url: string; arn: string } {
    const attributes: Record<string, string> = {};
    if (options.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
    if (options.delaySeconds !== undefined) attributes.DelaySeconds = String(options.delaySeconds);
    if (options.messageRetentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(options.messageRetentionSeconds);
    if (options.receiveWaitTimeSeconds !== undefined) attributes.ReceiveMessageWaitTimeSeconds = String(options.receiveWaitTimeSeconds);
    if (options.redrivePolicy) attributes.RedrivePolicy = JSON.stringify(options.redrivePolicy);
    const existing = this.queues.get(name);
    if (existing) this.applyAttributes(existing, attributes);
    else this.createQueueWithAttributes(name, attributes);
    return { url: this.queueUrl(name), arn: this.queueArn(name) };
  }

  deleteQueue(name: string): void {
    if (!this.queues.delete(name)) throw noSuchQueue();
    this.clearWakeTimer(name);
    this.saveNow();
  }

  listQueues(): string[] {
    return [...this.queues.keys()].sort();
  }

  send(name: string, body: string, attributes?: Record<string, SqsMessageAttribute>, options: SendOptions = {}): SentMessage {
    const queue = this.queue(name);
    checkCharacters(body, 'the message body');
    if (body.length === 0) throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    const messageAttributes = validateMessageAttributes(attributes);
    if (messageBytes(body, messageAttributes) > queue.settings.maximumMessageSize) {
      throw new SqsError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.maximumMessageSize} bytes.`);
    }
    const delay = optionalInteger('DelaySeconds', options.delaySeconds, 0, 900) ?? queue.settings.delaySeconds;
    const now = Date.now();
    const message: StoredMessage = {
      id: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes,
      traceHeader: options.traceHeader,
      senderId: options.senderId ?? 'local',
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
      inFlight: false,
    };
    queue.messages.set(message.id, message);
    this.record({ op: 'put', queue: name, message });
    if (delay === 0) this.notify(name);
    else this.armWakeTimer(name, message.visibleAt);
    return { messageId: message.id, md5OfMessageBody: message.md5OfBody, md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) };
  }

  /**
   * Receives up to `max` visible messages (1–10) and hides them for the visibility
   * timeout. A message that was already received `maxReceiveCount` times moves to the
   * dead-letter queue instead of being returned, as SQS's redrive does.
   */
  receive(name: string, max = 1, visibilitySeconds?: number): ReceivedMessage[] {
    const queue = this.queue(name);
    const count = integerIn('MaxNumberOfMessages', max, 1, 10);
    const visibility = optionalInteger('VisibilityTimeout', visibilitySeconds, 0, 43_200) ?? queue.settings.visibilityTimeout;
    return this.take(queue, count, visibility).map((m) => this.toReceived(queue, m, SYSTEM_ATTRIBUTES, ['All']));
  }

  /**
   * Deletes the message a receipt handle refers to. Deleting a message that is gone
   * already succeeds, as on AWS. A stale handle (from an earlier receive of a message
   * that was received again since) also deletes it; AWS documents that it "might not".
   */
  delete(name: string, receiptHandle: string): void {
    const queue = this.queue(name);
    const { messageId } = this.parseReceiptHandle(queue, receiptHandle);
    if (queue.messages.delete(messageId)) this.record({ op: 'delete', queue: name, id: messageId });
  }

  /** Changes how long a received message stays hidden, counted from now; 0 makes it visible at once. */
  changeVisibility(name: string, receiptHandle: string, visibilitySeconds: number): void {
    const queue = this.queue(name);
    const seconds = integerIn('VisibilityTimeout', visibilitySeconds, 0, 43_200);
    const { messageId, nonce } = this.parseReceiptHandle(queue, receiptHandle);
    const message = queue.messages.get(messageId);
    const now = Date.now();
    if (!message || !message.inFlight || message.visibleAt <= now) {
      throw new SqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    if (message.receipt !== nonce) {
      throw invalidValue('ReceiptHandle', receiptHandle, 'The receipt handle has expired.');
    }
    message.visibleAt = now + seconds * 1000;
    this.changed();
    if (seconds === 0) this.notify(name);
    else this.armWakeTimer(name, message.visibleAt);
  }

  purge(name: string): void {
    this.queue(name).messages.clear();
    this.record({ op: 'purge', queue: name });
  }

  depth(name: string): QueueDepth {
    const queue = this.queue(name);
    this.expire(queue);
    const now = Date.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.inFlight) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** ApproximateAgeOfOldestMessage: seconds since the oldest message still in the queue was sent (0 when empty). */
  oldestAgeSeconds(name: string): number {
    const queue = this.queue(name);
    this.expire(queue);
    let oldest = Infinity;
    for (const m of queue.messages.values()) oldest = Math.min(oldest, m.sentAt);
    return oldest === Infinity ? 0 : Math.floor((Date.now() - oldest) / 1000);
  }

  /** Every message in the queue, oldest first, without receiving it (for tests and the console). */
  peek(name: string): PeekedMessage[] {
    const queue = this.queue(name);
    this.expire(queue);
    const now = Date.now();
    return [...queue.messages.values()].map((m) => ({
      messageId: m.id,
      body: m.body,
      messageAttributes: m.messageAttributes ?? {},
      receiveCount: m.receiveCount,
      state: m.visibleAt <= now ? 'visible' : m.inFlight ? 'inFlight' : 'delayed',
    }));
  }

  /**
   * Calls `listener` whenever messages may have become receivable in the queue: on a
   * send, and when a delay or visibility timeout runs out. Returns the unsubscriber.
   */
  onMessage(name: string, listener: () => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  // ---- StandIn --------------------------------------------------------------------

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const operation = targetOperation(req, 'AmazonSQS');
    if (operation === undefined) return undefined;
    const input = parseJsonBody(req.body);
    if (!input) {
      return jsonRpcError({ status: 400, type: 'com.amazon.coral.service#SerializationException', message: 'Malformed JSON request body.' }, CONTENT_TYPE);
    }
    try {
      const output = await this.dispatch(operation, input, req);
      if (SNAPSHOT_OPERATIONS.has(operation)) this.saveNow();
      else if (DURABLE_OPERATIONS.has(operation)) await this.state?.durable();
      return jsonResponse(output, CONTENT_TYPE);
    } catch (err) {
      if (err instanceof SqsError) return err.toResponse();
      const message = err instanceof Error ? err.message : String(err);
      return jsonRpcError({ status: 500, type: 'com.amazonaws.sqs#InternalError', message }, CONTENT_TYPE);
    }
  }

  /** Resolves once every change so far is on disk (what SendMessage waits for before answering). */
  async durable(): Promise<void> {
    await this.state?.durable();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.longPolls) wake();
    for (const name of [...this.wakeTimers.keys()]) this.clearWakeTimer(name);
    this.state?.saveNow();
    this.state?.close();
  }

  // ---- protocol -------------------------------------------------------------------

  private async dispatch(operation: string, input: Record<string, unknown>, req: StandInRequest): Promise<unknown> {
    switch (operation) {
      case 'CreateQueue': {
        const name = requiredString(input, 'QueueName');
        this.createQueueWithAttributes(name, (input.Attributes as Record<string, string> | undefined) ?? {});
        return { QueueUrl: this.queueUrl(name) };
      }
      case 'GetQueueUrl': {
        const name = requiredString(input, 'QueueName');
        this.queue(name);
        return { QueueUrl: this.queueUrl(name) };
      }
      case 'ListQueues':
        return this.listQueuesOutput(input);
      case 'DeleteQueue':
        this.deleteQueue(this.queueNameOf(input));
        return {};
      case 'GetQueueAttributes':
        return { Attributes: this.queueAttributes(this.queueNameOf(input), stringList(input.AttributeNames)) };
      case 'SetQueueAttributes': {
        const name = this.queueNameOf(input);
        this.applyAttributes(this.queue(name), (input.Attributes as Record<string, string> | undefined) ?? {});
        return {};
      }
      case 'ListDeadLetterSourceQueues': {
        const arn = this.queueArn(this.queueNameOf(input));
        const urls = [...this.queues.values()].filter((q) => q.settings.redrivePolicy?.deadLetterTargetArn === arn).map((q) => this.queueUrl(q.name));
        return { queueUrls: urls };
      }
      case 'PurgeQueue':
        this.purge(this.queueNameOf(input));
        return {};
      case 'SendMessage': {
        const name = this.queueNameOf(input);
        const sent = this.send(name, requiredString(input, 'MessageBody'), input.MessageAttributes as Record<string, SqsMessageAttribute> | undefined, {
          delaySeconds: optionalInteger('DelaySeconds', input.DelaySeconds, 0, 900),
          senderId: accessKeyOf(req),
          traceHeader: traceHeaderOf(input.MessageSystemAttributes),
        });
        return sendOutput(sent, input.MessageSystemAttributes);
      }
      case 'SendMessageBatch':
        return this.sendBatch(this.queueNameOf(input), input.Entries, req);
      case 'ReceiveMessage':
        return this.receiveOutput(input);
      case 'DeleteMessage':
        this.delete(this.queueNameOf(input), requiredString(input, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch': {
        const name = this.queueNameOf(input);
        return this.batch(input.Entries, 'DeleteMessageBatchRequestEntry', (entry) => {
          this.delete(name, requiredString(entry, 'ReceiptHandle'));
          return {};
        });
      }
      case 'ChangeMessageVisibility':
        this.changeVisibility(this.queueNameOf(input), requiredString(input, 'ReceiptHandle'), integerIn('VisibilityTimeout', input.VisibilityTimeout, 0, 43_200));
        return {};
      case 'ChangeMessageVisibilityBatch': {
        const name = this.queueNameOf(input);
        return this.batch(input.Entries, 'ChangeMessageVisibilityBatchRequestEntry', (entry) => {
          this.changeVisibility(name, requiredString(entry, 'ReceiptHandle'), integerIn('VisibilityTimeout', entry.VisibilityTimeout ?? 0, 0, 43_200));
          return {};
        });
      }
      default:
        throw new SqsError('UnsupportedOperation', `The operation ${operation} is not supported by the local SQS.`);
    }
  }

  /** The queue a `QueueUrl` names: its last path segment. Any host is accepted, as the SDK may rewrite it. */
  private queueNameOf(input: Record<string, unknown>): string {
    const url = requiredString(input, 'QueueUrl');
    const name = url.split('?')[0].split('/').filter(Boolean).pop() ?? '';
    this.queue(name);
    return name;
  }

  private listQueuesOutput(input: Record<string, unknown>): unknown {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    const names = this.listQueues().filter((n) => n.startsWith(prefix));
    const max = optionalInteger('MaxResults', input.MaxResults, 1, 1000);
    if (max === undefined) return names.length ? { QueueUrls: names.map((n) => this.queueUrl(n)) } : {};
    const start = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64url').toString()) || 0 : 0;
    const page = names.slice(start, start + max);
    const next = start + max < names.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { ...(page.length ? { QueueUrls: page.map((n) => this.queueUrl(n)) } : {}), ...(next ? { NextToken: next } : {}) };
  }

  private sendBatch(name: string, rawEntries: unknown, req: StandInRequest): unknown {
    const entries = this.checkBatch(rawEntries, 'SendMessageBatchRequestEntry');
    const total = entries.reduce(
      (sum, e) => sum + messageBytes(typeof e.MessageBody === 'string' ? e.MessageBody : '', e.MessageAttributes as Record<string, SqsMessageAttribute> | undefined),
      0,
    );
    if (total > MAX_MESSAGE_BYTES) {
      throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`);
    }
    return this.batch(entries, 'SendMessageBatchRequestEntry', (entry) => {
      const sent = this.send(name, requiredString(entry, 'MessageBody'), entry.MessageAttributes as Record<string, SqsMessageAttribute> | undefined, {
        delaySeconds: optionalInteger('DelaySeconds', entry.DelaySeconds, 0, 900),
        senderId: accessKeyOf(req),
        traceHeader: traceHeaderOf(entry.MessageSystemAttributes),
      });
      return sendOutput(sent, entry.MessageSystemAttributes);
    });
  }

  /** Batch-level checks fail the whole request; an entry's own failure lands in `Failed`, as on AWS. */
  private checkBatch(rawEntries: unknown, entryName: string): Record<string, unknown>[] {
    const entries = Array.isArray(rawEntries) ? (rawEntries as Record<string, unknown>[]) : [];
    if (entries.length === 0) throw new SqsError('EmptyBatchRequest', `There should be at least one ${entryName} in the request.`);
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
    }
    const seen = new Set<string>();
    for (const entry of entries) {
      const id = entry?.Id;
      if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) {
        throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      }
      if (seen.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
      seen.add(id);
    }
    return entries;
  }

  private batch(rawEntries: unknown, entryName: string, run: (entry: Record<string, unknown>) => Record<string, unknown>): unknown {
    const entries = this.checkBatch(rawEntries, entryName);
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...run(entry) });
      } catch (err) {
        if (!(err instanceof SqsError) || err.code === 'QueueDoesNotExist') throw err;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: errorWire[err.code].queryCode, Message: err.message });
      }
    }
    return { Successful, Failed };
  }

  private async receiveOutput(input: Record<string, unknown>): Promise<unknown> {
    const name = this.queueNameOf(input);
    const queue = this.queue(name);
    const max = integerIn('MaxNumberOfMessages', input.MaxNumberOfMessages ?? 1, 1, 10);
    const visibility = optionalInteger('VisibilityTimeout', input.VisibilityTimeout, 0, 43_200) ?? queue.settings.visibilityTimeout;
    const wait = optionalInteger('WaitTimeSeconds', input.WaitTimeSeconds, 0, 20) ?? queue.settings.receiveWaitTimeSeconds;
    const requested = [...stringList(input.AttributeNames), ...stringList(input.MessageSystemAttributeNames)];
    const systemNames = requested.includes('All') ? SYSTEM_ATTRIBUTES : SYSTEM_ATTRIBUTES.filter((n) => requested.includes(n));
    const attributeFilters = stringList(input.MessageAttributeNames);

    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const taken = this.take(this.queue(name), max, visibility);
      if (taken.length > 0 || this.closed || Date.now() >= deadline) {
        if (taken.length === 0) return {};
        return { Messages: taken.map((m) => toWireMessage(this.toReceived(queue, m, systemNames, attributeFilters))) };
      }
      await this.waitForMessages(name, deadline - Date.now());
    }
  }

  /** Resolves when the queue may have something to receive, or after `ms`. */
  private waitForMessages(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        this.longPolls.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.onMessage(name, done);
      this.longPolls.add(done);
    });
  }

  private queueAttributes(name: string, requested: string[]): Record<string, string> {
    const queue = this.queue(name);
    const depth = this.depth(name);
    const s = queue.settings;
    const all: Record<string, string> = {
      QueueArn: this.queueArn(name),
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
      VisibilityTimeout: String(s.visibilityTimeout),
      MaximumMessageSize: String(s.maximumMessageSize),
      MessageRetentionPeriod: String(s.messageRetentionPeriod),
      DelaySeconds: String(s.delaySeconds),
      ReceiveMessageWaitTimeSeconds: String(s.receiveWaitTimeSeconds),
      SqsManagedSseEnabled: 'true',
      ...(s.redrivePolicy ? { RedrivePolicy: JSON.stringify(s.redrivePolicy) } : {}),
      ...s.other,
    };
    if (requested.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const key of requested) {
      if (!(key in all) && !KNOWN_QUEUE_ATTRIBUTES.has(key)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`);
      if (key in all) out[key] = all[key];
    }
    return out;
  }

  // ---- queue internals ------------------------------------------------------------

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw noSuchQueue();
    return queue;
  }

  private createQueueWithAttributes(name: string, attributes: Record<string, string>): void {
    if (!QUEUE_NAME.test(name)) {
      throw invalidValue('QueueName', name, 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. (FIFO queues are not emulated.)');
    }
    const existing = this.queues.get(name);
    if (existing) {
      // CreateQueue is idempotent only while the attributes asked for agree with the queue's.
      const current = this.queueAttributes(name, ['All']);
      for (const [key, value] of Object.entries(attributes)) {
        const same = key === 'RedrivePolicy' ? JSON.stringify(parseRedrivePolicy(value)) === current[key] : current[key] === String(value);
        if (!same) throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${key}`);
      }
      return;
    }
    const now = Date.now();
    const queue: Queue = {
      name,
      createdAt: now,
      modifiedAt: now,
      settings: {
        visibilityTimeout: 30,
        delaySeconds: 0,
        messageRetentionPeriod: 345_600,
        receiveWaitTimeSeconds: 0,
        maximumMessageSize: MAX_MESSAGE_BYTES,
        other: {},
      },
      messages: new Map(),
    };
    this.applyAttributes(queue, attributes);
    this.queues.set(name, queue);
    // A new queue goes to disk at once: journal entries for its messages need it there.
    this.saveNow();
  }

  private applyAttributes(queue: Queue, attributes: Record<string, string>): void {
    const s = { ...queue.settings, other: { ...queue.settings.other } };
    for (const [key, value] of Object.entries(attributes)) {
      switch (key) {
        case 'VisibilityTimeout':
          s.visibilityTimeout = integerIn(key, value, 0, 43_200);
          break;
        case 'DelaySeconds':
          s.delaySeconds = integerIn(key, value, 0, 900);
          break;
        case 'MessageRetentionPeriod':
          s.messageRetentionPeriod = integerIn(key, value, 60, 1_209_600);
          break;
        case 'ReceiveMessageWaitTimeSeconds':
          s.receiveWaitTimeSeconds = integerIn(key, value, 0, 20);
          break;
        case 'MaximumMessageSize':
          s.maximumMessageSize = integerIn(key, value, 1024, MAX_MESSAGE_BYTES);
          break;
        case 'RedrivePolicy': {
          if (value === '') {
            delete s.redrivePolicy;
            break;
          }
          const policy = parseRedrivePolicy(value);
          const target = policy.deadLetterTargetArn.split(':').pop() ?? '';
          if (!this.queues.has(target) || policy.deadLetterTargetArn !== this.queueArn(target)) {
            throw invalidValue('RedrivePolicy', value, 'Dead letter target does not exist.');
          }
          s.redrivePolicy = policy;
          break;
        }
        case 'FifoQueue':
        case 'ContentBasedDeduplication':
          if (value === 'true') throw new SqsError('InvalidAttributeName', `${key} is not supported: FIFO queues are not emulated locally.`);
          break;
        default:
          if (!KNOWN_QUEUE_ATTRIBUTES.has(key)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${key}.`);
          s.other[key] = String(value);
      }
    }
    queue.settings = s;
    queue.modifiedAt = Date.now();
    this.changed();
  }

  /** Drops messages older than the retention period, as SQS does. */
  private expire(queue: Queue): void {
    const oldest = Date.now() - queue.settings.messageRetentionPeriod * 1000;
    for (const [id, m] of queue.messages) {
      if (m.sentAt < oldest) {
        queue.messages.delete(id);
        this.record({ op: 'delete', queue: queue.name, id });
      }
    }
  }

  private take(queue: Queue, max: number, visibilitySeconds: number): StoredMessage[] {
    this.expire(queue);
    const now = Date.now();
    const out: StoredMessage[] = [];
    const redrive = queue.settings.redrivePolicy;
    const dlq = redrive ? this.queues.get(redrive.deadLetterTargetArn.split(':').pop() ?? '') : undefined;
    for (const message of queue.messages.values()) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      if (redrive && dlq && message.receiveCount >= redrive.maxReceiveCount) {
        // SQS keeps the message id, body, attributes, sent time and receive count when
        // it moves a message (the receive count carrying over is observed behaviour, not documented).
        const moved: StoredMessage = { ...message, visibleAt: now, inFlight: false, receipt: undefined, deadLetterSourceArn: this.queueArn(queue.name) };
        queue.messages.delete(message.id);
        dlq.messages.set(message.id, moved);
        this.record({ op: 'put', queue: dlq.name, message: moved });
        this.record({ op: 'delete', queue: queue.name, id: message.id });
        this.notify(dlq.name);
        continue;
      }
      message.receiveCount++;
      message.firstReceiveAt ??= now;
      message.inFlight = true;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receipt = randomBytes(9).toString('base64url');
      this.record({ op: 'receive', queue: queue.name, id: message.id, receiveCount: message.receiveCount, firstReceiveAt: message.firstReceiveAt });
      out.push(message);
    }
    if (out.length > 0) {
      this.armWakeTimer(queue.name, now + visibilitySeconds * 1000);
    }
    return out;
  }

  private toReceived(queue: Queue, m: StoredMessage, systemNames: readonly SystemAttributeName[], attributeFilters: readonly string[]): ReceivedMessage {
    const system: Record<SystemAttributeName, string | undefined> = {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: m.senderId,
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
      AWSTraceHeader: m.traceHeader,
      DeadLetterQueueSourceArn: m.deadLetterSourceArn,
    };
    const attributes: Record<string, string> = {};
    for (const name of systemNames) {
      const value = system[name];
      if (value !== undefined) attributes[name] = value;
    }
    const messageAttributes: Record<string, SqsMessageAttribute> = {};
    for (const [name, value] of Object.entries(m.messageAttributes ?? {})) {
      if (matchesAttributeFilter(name, attributeFilters)) messageAttributes[name] = value;
    }
    return {
      messageId: m.id,
      receiptHandle: Buffer.from(`${queue.name}\n${m.id}\n${m.receipt}`).toString('base64url'),
      body: m.body,
      md5OfBody: m.md5OfBody,
      attributes: attributes as ReceivedMessage['attributes'],
      messageAttributes,
      // Computed over the attributes returned, which is what clients verify it against.
      md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
    };
  }

  private parseReceiptHandle(queue: Queue, receiptHandle: string): { messageId: string; nonce: string } {
    const parts = Buffer.from(receiptHandle, 'base64url').toString('utf8').split('\n');
    if (parts.length !== 3 || parts[0] !== queue.name || !parts[1] || !parts[2]) {
      throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`);
    }
    return { messageId: parts[1], nonce: parts[2] };
  }

  // ---- wake-ups -------------------------------------------------------------------

  private notify(name: string): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) listener();
  }

  private armWakeTimer(name: string, at: number): void {
    if (this.closed) return;
    const current = this.wakeTimers.get(name);
    if (current && current.at <= at) return;
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(() => this.wakeTimerFired(name), Math.max(0, at - Date.now()));
    timer.unref();
    this.wakeTimers.set(name, { at, timer });
  }

  private wakeTimerFired(name: string): void {
    this.wakeTimers.delete(name);
    const queue = this.queues.get(name);
    if (!queue) return;
    this.notify(name);
    const now = Date.now();
    let next = Infinity;
    for (const m of queue.messages.values()) if (m.visibleAt > now && m.visibleAt < next) next = m.visibleAt;
    if (next !== Infinity) this.armWakeTimer(name, next);
  }

  private clearWakeTimer(name: string): void {
    const current = this.wakeTimers.get(name);
    if (current) clearTimeout(current.timer);
    this.wakeTimers.delete(name);
  }

  // ---- persistence ----------------------------------------------------------------

  // After close the final state is on disk; a late write must not happen (or recreate a deleted folder).
  private changed(): void {
    if (!this.closed) this.state?.changed();
  }

  private record(entry: JournalEntry): void {
    if (!this.closed) {
      this.state?.record(entry);
      // The snapshot keeps the journal short.
      this.state?.changed();
    }
  }

  private saveNow(): void {
    if (!this.closed) this.state?.saveNow();
  }

  private snapshot(): SavedState {
    return {
      version: 1,
      queues: [...this.queues.values()].map((q) => ({
        name: q.name,
        createdAt: q.createdAt,
        modifiedAt: q.modifiedAt,
        settings: q.settings,
        messages: [...q.messages.values()],
      })),
    };
  }

  /** In-flight messages come back visible: whoever held them is gone with the old process. */
  private restore(saved: SavedState, journal: readonly JournalEntry[]): void {
    const now = Date.now();
    const visibleNow = (m: StoredMessage): StoredMessage => (m.inFlight ? { ...m, inFlight: false, visibleAt: Math.min(m.visibleAt, now), receipt: undefined } : m);
    for (const q of saved.queues) {
      const messages = new Map<string, StoredMessage>();
      for (const m of q.messages) messages.set(m.id, visibleNow(m));
      this.queues.set(q.name, { name: q.name, createdAt: q.createdAt, modifiedAt: q.modifiedAt, settings: q.settings, messages });
    }
    for (const entry of journal) {
      const messages = this.queues.get(entry.queue)?.messages;
      if (!messages) continue;
      if (entry.op === 'put') messages.set(entry.message.id, visibleNow(entry.message));
      else if (entry.op === 'delete') messages.delete(entry.id);
      else if (entry.op === 'purge') messages.clear();
      else {
        const m = messages.get(entry.id);
        if (m) messages.set(m.id, { ...m, receiveCount: entry.receiveCount, firstReceiveAt: entry.firstReceiveAt });
      }
    }
    for (const q of this.queues.values()) {
      for (const m of q.messages.values()) if (m.visibleAt > now) this.armWakeTimer(q.name, m.visibleAt);
    }
  }
}

/** Queue attributes SQS knows but this stand-in only stores and echoes. */
const KNOWN_QUEUE_ATTRIBUTES = new Set([
  'Policy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
]);

function traceHeaderOf(raw: unknown): string | undefined {
  const header = (raw as Record<string, SqsMessageAttribute> | undefined)?.AWSTraceHeader;
  return typeof header?.StringValue === 'string' ? header.StringValue : undefined;
}

function sendOutput(sent: SentMessage, systemAttributes: unknown): Record<string, unknown> {
  const trace = traceHeaderOf(systemAttributes);
  return {
    MessageId: sent.messageId,
    MD5OfMessageBody: sent.md5OfMessageBody,
    ...(sent.md5OfMessageAttributes ? { MD5OfMessageAttributes: sent.md5OfMessageAttributes } : {}),
    ...(trace ? { MD5OfMessageSystemAttributes: md5OfMessageAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: trace } }) } : {}),
  };
}

function toWireMessage(m: ReceivedMessage): Record<string, unknown> {
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(Object.keys(m.attributes).length ? { Attributes: m.attributes } : {}),
    ...(m.md5OfMessageAttributes ? { MD5OfMessageAttributes: m.md5OfMessageAttributes, MessageAttributes: m.messageAttributes } : {}),
  };
}
