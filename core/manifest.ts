/**
 * The one description of Cirrus's resources. The CDK construct (`lib/`) and the local
 * runtime (`local/`) are both built from it, so the cloud and the laptop cannot drift:
 * a table, queue, function or route exists in both or in neither.
 *
 * Handlers never read this file to find resources; they read the environment variables
 * named here (`envVar`), exactly as a Lambda function does.
 */
import { heartbeatReply, type MockReplySpec } from './protocol/heartbeat';

export type KeyType = 'S' | 'N';

export interface KeySpec {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  /**
   * The attributes copied into the index (default `ALL`). An update that changes no projected
   * attribute writes nothing to a `KEYS_ONLY` (or `include`) index; with `ALL` every update of
   * the item writes the index too.
   */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

export interface TableSpec {
  /** Logical name, used for construct ids and local table names. */
  readonly name: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items lazily. */
  readonly ttlAttribute?: string;
  /** Global secondary indexes, for the lists a Query must serve without a Scan. */
  readonly indexes?: readonly IndexSpec[];
  /** Environment variable through which functions receive the table name. */
  readonly envVar: string;
  /**
   * The table's DynamoDB Stream and what each record carries: `NEW_AND_OLD_IMAGES` when a
   * consumer needs what a change replaced, `NEW_IMAGE` otherwise. Records are kept 24 hours.
   */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
  readonly description: string;
}

export const tables = {
  users: {
    name: 'Users',
    partitionKey: { name: 'userId', type: 'S' },
    // Every user item carries listKey = 'user', so admins page through users in
    // registration order with a Query. Keys only: connects and disconnects (which update
    // `conns`) and profile changes write nothing to it, so only registrations reach its one
    // partition; the page's profiles are read with BatchGetItem.
    indexes: [{ name: 'byCreation', partitionKey: { name: 'listKey', type: 'S' }, sortKey: { name: 'createdAt', type: 'N' }, projection: 'KEYS_ONLY' }],
    envVar: 'TABLE_USERS',
    description: "User profiles and settings, one item per user, with the user's live connections (`conns`) that push reads.",
  },
  sessions: {
    name: 'Sessions',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sessionId', type: 'S' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_SESSIONS',
    description: "Issued user tokens; a token is valid only while its session item exists and is not revoked. Also each HTTP caller's count of requests in the current minute, shared by the HTTP functions' containers (partition `#http|<caller>`), expiring through the TTL.",
  },
  connections: {
    name: 'Connections',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'connectionId', type: 'S' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_CONNECTIONS',
    description: "Live WebSocket connections, queried by user id for push; scanned (keys only) by the admin statistics for the online counts.",
  },
  devices: {
    name: 'Devices',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'deviceId', type: 'S' },
    // A token registered again by another user or device (a phone that changed hands) moves:
    // registration finds its earlier holders here. Keys only: the offline push reads a user's devices by Query.
    indexes: [{ name: 'byToken', partitionKey: { name: 'token', type: 'S' }, projection: 'KEYS_ONLY' }],
    envVar: 'TABLE_DEVICES',
    description: "Devices registered for offline push (APNs, FCM, Web Push), one item per device of a user; the user item's small `devs` map says which users have any.",
  },
  groups: {
    name: 'Groups',
    partitionKey: { name: 'groupId', type: 'S' },
    envVar: 'TABLE_GROUPS',
    description: 'Group profiles.',
  },
  groupMembers: {
    name: 'GroupMembers',
    partitionKey: { name: 'groupId', type: 'S' },
    sortKey: { name: 'userId', type: 'S' },
    indexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'S' }, sortKey: { name: 'groupId', type: 'S' } }],
    envVar: 'TABLE_GROUP_MEMBERS',
    description: 'Group membership (role, nickname, mute), paged by group id; a user\'s groups through the byUser index.',
  },
  groupOnline: {
    name: 'GroupOnline',
    // `<groupId>#<shard>` / `<userId>#<connectionId>`: the live connections of the members of
    // groups with at least onlineIndexMinMembers members (core/store/group-online.ts).
    partitionKey: { name: 'gs', type: 'S' },
    sortKey: { name: 'uc', type: 'S' },
    ttlAttribute: 'e',
    envVar: 'TABLE_GROUP_ONLINE',
    description: "Online members of large groups, one small entry per (group, live connection), sharded by user; a group message Queries it instead of reading every member.",
  },
  groupApplications: {
    name: 'GroupApplications',
    partitionKey: { name: 'groupId', type: 'S' },
    sortKey: { name: 'userId', type: 'S' },
    indexes: [{ name: 'byUser', partitionKey: { name: 'userId', type: 'S' }, sortKey: { name: 'groupId', type: 'S' } }],
    envVar: 'TABLE_GROUP_APPLICATIONS',
    description: 'Requests to join a group (applications, and invitations needing approval).',
  },
  friends: {
    name: 'Friends',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'friendUserId', type: 'S' },
    envVar: 'TABLE_FRIENDS',
    description: 'Friendships, one item per side.',
  },
  friendRequests: {
    name: 'FriendRequests',
    partitionKey: { name: 'toUserId', type: 'S' },
    sortKey: { name: 'fromUserId', type: 'S' },
    indexes: [{ name: 'byFrom', partitionKey: { name: 'fromUserId', type: 'S' }, sortKey: { name: 'toUserId', type: 'S' } }],
    envVar: 'TABLE_FRIEND_REQUESTS',
    description: 'Friend requests, listed by recipient (incoming) and through the byFrom index (outgoing).',
  },
  blacklist: {
    name: 'Blacklist',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'blockedUserId', type: 'S' },
    envVar: 'TABLE_BLACKLIST',
    description: 'Users each user has blocked.',
  },
  conversations: {
    name: 'Conversations',
    partitionKey: { name: 'conversationId', type: 'S' },
    envVar: 'TABLE_CONVERSATIONS',
    description: "One item per conversation holding its seq counter (maxSeq) and the time of the last allocation.",
  },
  userConversations: {
    name: 'UserConversations',
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'conversationId', type: 'S' },
    // Every member's positions in one conversation, ordered by readSeq: read receipts are
    // counted from these (one number per member) instead of a write per member per message.
    indexes: [{ name: 'byConversation', partitionKey: { name: 'conversationId', type: 'S' }, sortKey: { name: 'readSeq', type: 'N' } }],
    envVar: 'TABLE_USER_CONVERSATIONS',
    description: "A member's state in a conversation: readSeq, deliveredSeq, minSeq, leftSeq, settings, messages deleted for them.",
  },
  messages: {
    name: 'Messages',
    partitionKey: { name: 'conversationId', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_MESSAGES',
    // The archive's outbox: every message written or changed reaches the history through it.
    stream: 'NEW_AND_OLD_IMAGES',
    description: 'The offline message store that clients sync from, numbered by seq per conversation; its stream feeds the Aurora history.',
  },
  messageIds: {
    name: 'MessageIds',
    partitionKey: { name: 'senderMsgKey', type: 'S' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_MESSAGE_IDS',
    description: "Idempotency records: (sender, clientMsgId) -> the seq and id the message was given.",
  },
  batches: {
    name: 'Batches',
    partitionKey: { name: 'batchId', type: 'S' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_BATCHES',
    description: 'Batch sends (POST /messages/batch): one item per batch with its status and counters, kept 30 days.',
  },
  outbox: {
    name: 'Outbox',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_OUTBOX',
    stream: 'NEW_IMAGE',
    description: "Users and groups to copy into the history's directory mirrors, and the http function's audit log entries, one item per version, kept a day: its stream feeds the archive function.",
  },
  auditLog: {
    name: 'AuditLog',
    // Every entry under log = 'audit', newest last by `at#id`: a time range is one Query. Admin
    // actions are few (well under a partition's 1,000 writes a second).
    partitionKey: { name: 'log', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // A target's entries (`user:<id>`, `group:<id>`, …) in time order.
    indexes: [{ name: 'byTarget', partitionKey: { name: 'target', type: 'S' }, sortKey: { name: 'sk', type: 'S' } }],
    // Only the users throttled for sending too much (log = 'throttle', core/services/limits.ts) expire,
    // 30 days after their throttle ended; audit entries have no expiresAt and are kept for good.
    ttlAttribute: 'expiresAt',
    envVar: 'TABLE_AUDIT_LOG',
    description: 'The audit log: one item per administrative action (who, what, target, when, outcome, correlation id), listed by GET /admin/audit; and the users throttled for sending too much (GET /admin/limits), kept 30 days after their throttle ended.',
  },
  keyPackages: {
    name: 'KeyPackages',
    // `d#<deviceId>`: a device of an end-to-end encrypted conversation (its signature key and
    // last-resort key package); `k#<deviceId>#<id>`: one of its one-time key packages, deleted
    // (conditionally) by the claim that hands it out.
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    envVar: 'TABLE_KEY_PACKAGES',
    description: "The MLS key-package directory of end-to-end encrypted conversations: each device's public signature key and key packages (public keys only).",
  },
} as const satisfies Record<string, TableSpec>;

export type TableKey = keyof typeof tables;

/** Declared ahead of the maps below because queues name their consumers and functions their queues. */
export type QueueKey = 'webhook';
export type FunctionKey = 'wsAuthorizer' | 'wsConnect' | 'wsDisconnect' | 'wsMessage' | 'http' | 'httpMedia' | 'httpE2ee' | 'httpHistory' | 'batchPages' | 'push' | 'notify' | 'archive' | 'webhook' | 'migrate' | 'retention' | 'userData';

export interface QueueSpec {
  readonly name: string;
  readonly envVar: string;
  /** Function consuming the queue through an event source mapping. */
  readonly consumer: FunctionKey;
  readonly batchSize: number;
  /** Seconds the event source waits to fill a batch (0 = invoke as soon as messages arrive). */
  readonly maxBatchingWindowSeconds: number;
  /** At least 6x the consumer's timeout, as AWS advises for Lambda event sources (checked by the stack). */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Cap on concurrent consumer invocations (SQS event source MaximumConcurrency). */
  readonly maxConcurrency: number;
  /**
   * The optional feature whose jobs the queue carries. Without that feature configured
   * the queue stays empty, so its event source is created disabled: an idle deployment
   * does not pay for long-polling it.
   */
  readonly onlyWith?: 'webhooks';
  /** The variable carrying the URL of the queue's dead-letter queue, for the functions that redrive it. */
  readonly deadLetterEnvVar?: string;
  readonly description: string;
}

export const queues = {
  webhook: {
    name: 'Webhook',
    envVar: 'QUEUE_WEBHOOK_URL',
    consumer: 'webhook',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    visibilityTimeoutSeconds: 60,
    // An app backend down for a while is retried for a few minutes before the DLQ (alarmed) keeps the callbacks.
    maxReceiveCount: 8,
    // Caps the load Cirrus puts on the app backend.
    maxConcurrency: 10,
    onlyWith: 'webhooks',
    deadLetterEnvVar: 'QUEUE_WEBHOOK_DLQ_URL',
    description: 'After-callbacks (afterSendMessage, afterMarkRead, group and friend changes, …) to POST, signed, to the app backend; retried until it answers 2xx.',
  },
} as const satisfies Record<QueueKey, QueueSpec>;

/** The record kinds of a DynamoDB Stream. */
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** A table's stream consumed by a function through an event source mapping. */
export interface StreamConsumerSpec {
  /** The table whose stream is read (it must have `stream`). */
  readonly table: TableKey;
  readonly consumer: FunctionKey;
  /** Records per invocation, at most (DynamoDB Streams allow 1..1000 in CloudFormation; a batch is also cut at Lambda's 6 MB payload). */
  readonly batchSize: number;
  /** Seconds the event source gathers records before invoking (0..300). */
  readonly maxBatchingWindowSeconds: number;
  /**
   * The only record kinds delivered (the mapping's filter on `eventName`); the others are
   * dropped by Lambda before any invocation and are not billed.
   */
  readonly eventNames: readonly StreamEventName[];
  /** Records older than this are discarded to the dead-letter queue (metadata only); the stream keeps 24 hours. */
  readonly maxRecordAgeSeconds: number;
  /** Retries of a failing batch before its records are discarded to the dead-letter queue (metadata only). */
  readonly retryAttempts: number;
  readonly description: string;
}

export type StreamConsumerKey = 'messageArchive' | 'outboxArchive';

export const streamConsumers = {
  messageArchive: {
    table: 'messages',
    consumer: 'archive',
    batchSize: 1000,
    maxBatchingWindowSeconds: 5,
    // New messages and changes (revoke, delete, edit, reactions); TTL expiry and purges are REMOVEs.
    eventNames: ['INSERT', 'MODIFY'],
    maxRecordAgeSeconds: 86_400,
    // Aurora resuming from auto-pause fails a few batches in a row; the record age bounds the rest.
    retryAttempts: 1000,
    description: 'Every message written or changed, into the Aurora history (INSERT … ON CONFLICT, newer versions only), and its afterSendMessage callback.',
  },
  outboxArchive: {
    table: 'outbox',
    consumer: 'archive',
    batchSize: 1000,
    maxBatchingWindowSeconds: 5,
    // The expiry of an outbox item is a REMOVE, and is not delivered.
    eventNames: ['INSERT'],
    maxRecordAgeSeconds: 86_400,
    retryAttempts: 1000,
    description: "Users and groups into the history's directory mirrors; audit log entries into AuditLog; user erasures into the history.",
  },
} as const satisfies Record<StreamConsumerKey, StreamConsumerSpec>;

/**
 * The one dead-letter queue every failure destination shares (asynchronous invocations
 * after their retries, stream event sources, and records a consumer gives up on), with one alarm. The webhook queue keeps its own.
 */
export const deadLetters = {
  name: 'DeadLetters',
  envVar: 'QUEUE_DEAD_LETTERS_URL',
  retentionDays: 14,
  description: 'Records and events Cirrus gave up on: asynchronous invocations (push slices, batch pages) after their retries, with their event; poison stream records (whole, sent by their consumer); the batch metadata of discarded stream batches. Alarmed on the first one.',
} as const;


/**
 * The DynamoDB actions a function may take on a table, each the IAM action of a request its
 * code sends (a TransactWriteItems needs the PutItem, UpdateItem, DeleteItem or
 * ConditionCheckItem of each of its items; a Query of an index is granted in `indexes`).
 */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem' | 'ConditionCheckItem';

/** The RDS Data API actions a function may take on the history cluster. */
export type DataApiAction = 'ExecuteStatement' | 'BatchExecuteStatement' | 'BeginTransaction' | 'CommitTransaction' | 'RollbackTransaction';

export type SecretKey = 'signingKey' | 'adminSecret' | 'webhookSecret';

/** Every table action that writes. */
export const tableWriteActions: readonly TableAction[] = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];

export interface FunctionSpec {
  readonly name: string;
  /** Module under `functions/`, exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * The actions the function's code takes on each table, and nothing more: the stack grants
   * exactly these, and the local runtime refuses any other request as AWS would.
   */
  readonly tables: Partial<Record<TableKey, readonly TableAction[]>>;
  /** The global secondary indexes the function queries, per table (a table's grant does not cover them). */
  readonly indexes?: Partial<Record<TableKey, readonly string[]>>;
  /** Queues the function sends to. */
  readonly sendsTo: readonly QueueKey[];
  /** Sends what it gives up on to the shared dead-letter queue (`deadLetters`). */
  readonly sendsToDeadLetters?: boolean;
  /**
   * Needs the signing key (and admin secret) to issue or verify tokens; `webhookSecret`
   * signs webhook callbacks (granted only when webhooks are configured).
   */
  readonly secrets: readonly SecretKey[];
  /** Receives the webhook settings (`WEBHOOK_*`), when webhooks are configured. */
  readonly webhooks: boolean;
  /** Calls API Gateway's @connections API. */
  readonly postsToConnections: boolean;
  /** Uses the Aurora history through the RDS Data API, with these actions (false: not at all). */
  readonly history: false | readonly DataApiAction[];
  /** Presigns uploads to and downloads from the media bucket, and checks objects exist there. */
  readonly media: boolean;
  /**
   * Users' data exports, under `exports/` in the media bucket: `request` writes an export's
   * status object, reads it back and presigns the archive's download; `build` writes the
   * archive and the status.
   */
  readonly exports?: 'request' | 'build';
  /**
   * A user's own media objects (`media/<userId>/`): `list` lists them (ListBucket under
   * `media/`); `delete` lists and deletes them.
   */
  readonly userMedia?: 'list' | 'delete';
  /**
   * Peeks into and redrives the dead-letter queues of these queues (receive, change
   * visibility, delete; the redrive sends to the queue itself, listed in `sendsTo`).
   */
  readonly redrives?: readonly QueueKey[];
  /** Functions it invokes asynchronously (Lambda `Invoke`, InvocationType `Event`): granted lambda:InvokeFunction on them. */
  readonly invokes?: readonly FunctionKey[];
  /**
   * Invoked asynchronously: the variable carrying its name to the functions that invoke it,
   * and Lambda's handling of a failed event (retries, how long an event may wait), after
   * which the event goes to the shared dead-letter queue (`deadLetters`).
   */
  readonly asyncInvoke?: { readonly envVar: string; readonly retryAttempts: 0 | 1 | 2; readonly maxEventAgeSeconds: number };
  /**
   * Offline push: receives the providers' settings (`PUSH_SETTINGS`: which providers are on,
   * bundle ids, the VAPID public key, the names of the credentials' parameters; no secret),
   * when the deployment has `offlinePush`.
   */
  readonly pushSettings?: boolean;
  /** Enforces or shows the limits against abuse: receives `LIMITS` (compiled into its bundle). */
  readonly limits?: boolean;
  /**
   * Offline push: reads the providers' credentials (core/offline-push/credentials.ts): receives
   * `PUSH_SETTINGS`, and may `ssm:GetParameter` exactly the SecureString parameters it names.
   */
  readonly pushCredentials?: boolean;
  /**
   * Invoked on a schedule (an EventBridge rule; the local runtime runs it on the same schedule
   * while it is up): `rate` in EventBridge's form, e.g. `rate(1 day)`.
   */
  readonly schedule?: { readonly rate: string; readonly description: string };
}

const fn = (spec: Omit<FunctionSpec, 'sendsTo' | 'secrets' | 'postsToConnections' | 'history' | 'media' | 'tables' | 'webhooks'> & Partial<FunctionSpec>): FunctionSpec => ({
  tables: {},
  webhooks: false,
  sendsTo: [],
  secrets: [],
  postsToConnections: false,
  history: false,
  media: false,
  ...spec,
});

export const functions = {
  wsAuthorizer: fn({
    name: 'WsAuthorizer',
    entry: 'ws-authorizer',
    description: 'REQUEST authorizer for $connect: verifies the token query parameter and its session.',
    memoryMb: 512,
    timeoutSeconds: 5,
    tables: { sessions: ['GetItem'] },
    secrets: ['signingKey'],
  }),
  wsConnect: fn({
    name: 'WsConnect',
    entry: 'ws-connect',
    description: "Records a new connection under its user and kicks the user's connections the multi-login policy excludes.",
    memoryMb: 512,
    timeoutSeconds: 5,
    tables: {
      // Records the connection, lists the user's others for the login policy, deletes a kicked one.
      connections: ['PutItem', 'Query', 'DeleteItem'],
      // The connection in the user's `conns` map, which push reads (added; a kicked one removed);
      // the check that its indexed groups did not change while their entries were written (GetItem).
      users: ['UpdateItem', 'GetItem'],
      // Revokes a kicked connection's session.
      sessions: ['UpdateItem'],
      // The connection's entry in each indexed group of the user (and a kicked one's removed).
      groupOnline: ['BatchWriteItem'],
      // A kicked connection's session loses the offline push devices it registered (Query, DeleteItem).
      devices: ['Query', 'DeleteItem'],
    },
    postsToConnections: true,
    // webhook: afterUserOnline, and afterUserKicked for connections the login policy ends, when enabled.
    sendsTo: ['webhook'],
    webhooks: true,
  }),
  wsDisconnect: fn({
    name: 'WsDisconnect',
    entry: 'ws-disconnect',
    description: 'Removes a closed connection.',
    memoryMb: 512,
    timeoutSeconds: 5,
    // The connection's entries in the user's indexed groups go with it (BatchWriteItem).
    tables: { connections: ['DeleteItem'], users: ['UpdateItem'], groupOnline: ['BatchWriteItem'] },
    // webhook: afterUserOffline, when enabled.
    sendsTo: ['webhook'],
    webhooks: true,
  }),
  wsMessage: fn({
    name: 'WsMessage',
    limits: true,
    entry: 'ws-message',
    description: 'Every WebSocket action (sendMsg, sync, receipts, typing, message changes and reactions) and $default.',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      // Recipients' live connections (GetItem, BatchGetItem), the 1:1 recipient's existence
      // (BatchGetItem, with the send checks); UpdateItem removes a connection found gone (410).
      users: ['GetItem', 'BatchGetItem', 'UpdateItem'],
      // The group's send checks (BatchGetItem); whether it has an online index (GetItem), moving an
      // unfinished index build on (UpdateItem).
      groups: ['GetItem', 'BatchGetItem', 'UpdateItem'],
      // The sender's membership (BatchGetItem); a group message's recipients (Query); in a group
      // with slow mode, the member's last send (UpdateItem, conditional).
      groupMembers: ['BatchGetItem', 'Query', 'UpdateItem'],
      friends: ['BatchGetItem'],
      blacklist: ['BatchGetItem'],
      // Seq allocation, claims and new conversations (UpdateItem), newest seqs and the send's
      // precheck (BatchGetItem), the counter again while a retry waits for its first attempt (GetItem).
      conversations: ['GetItem', 'BatchGetItem', 'UpdateItem'],
      // The user's conversations (Query), positions and settings (BatchGetItem, UpdateItem).
      userConversations: ['Query', 'BatchGetItem', 'UpdateItem'],
      // pullMsgs pages (Query), the message changed (GetItem, UpdateItem), receipts (BatchGetItem).
      messages: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'],
      messageIds: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
      // A connection found gone (410) while pushing an event, with its online-index entries;
      // setAppBackground marks the connection (UpdateItem).
      connections: ['DeleteItem', 'UpdateItem'],
      // An indexed group's online members (Query, strongly consistent); a gone connection's entries (BatchWriteItem).
      groupOnline: ['Query', 'BatchWriteItem'],
      // registerPushDevice / unregisterPushDevice: the user's devices (Query), the device (PutItem),
      // the token's earlier holders and devices over the cap (DeleteItem).
      devices: ['Query', 'PutItem', 'DeleteItem'],
    },
    // Read receipts: every member's position in a conversation; a registered token's earlier holders.
    indexes: { userConversations: ['byConversation'], devices: ['byToken'] },
    // webhook: afterMarkRead and afterRevokeMessage, when enabled.
    sendsTo: ['webhook'],
    // Fan-outs above INLINE_PUSH_MAX recipients, in slices; offline push of the recipients without a foreground connection.
    invokes: ['push', 'notify'],
    // Accepted messages and typing events are posted directly to the recipients' connections.
    postsToConnections: true,
    // beforeSendMessage is called, signed, inside sendMsg.
    secrets: ['webhookSecret'],
    webhooks: true,
    // registerPushDevice: which providers are on, and the bundle ids an APNs device may register for.
    pushSettings: true,
  }),
  http: fn({
    name: 'HttpApi',
    limits: true,
    entry: 'http-api',
    description: 'The HTTP API for app backends and administrators: every route but media and the history (see httpRouteFunctions).',
    memoryMb: 1024,
    timeoutSeconds: 15,
    tables: {
      // Registration (BatchWriteItem), profiles and bans (BatchGetItem, UpdateItem), live connections (GetItem).
      users: ['GetItem', 'BatchGetItem', 'BatchWriteItem', 'UpdateItem'],
      // Issues tokens (PutItem), checks them (GetItem), revokes them (Query, UpdateItem).
      sessions: ['GetItem', 'PutItem', 'Query', 'UpdateItem'],
      // Kicks a user's connections (Query, DeleteItem).
      connections: ['Query', 'DeleteItem'],
      groups: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
      groupMembers: ['BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
      groupApplications: ['BatchGetItem', 'Query', 'PutItem', 'DeleteItem', 'BatchWriteItem'],
      // ConditionCheckItem: a block's change while the 1:1 conversation does not exist (its mirror otherwise).
      conversations: ['GetItem', 'BatchGetItem', 'UpdateItem', 'ConditionCheckItem'],
      userConversations: ['BatchGetItem', 'Query', 'UpdateItem', 'BatchWriteItem'],
      messages: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'],
      messageIds: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
      batches: ['GetItem', 'PutItem', 'UpdateItem'],
      friends: ['BatchGetItem', 'Query', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
      friendRequests: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
      blacklist: ['BatchGetItem', 'Query', 'PutItem', 'DeleteItem'],
      // Large groups' online index: joins, leaves, receive options, builds, kicked connections.
      groupOnline: ['Query', 'BatchWriteItem'],
      // Users and groups for the history's directory (PutItem; registrations in BatchWriteItem),
      // and audit log entries, which the archive function copies into AuditLog (no room is left
      // in this function's 4 KB environment for one more table name).
      outbox: ['PutItem', 'BatchWriteItem'],
      // Offline push devices: registered (PutItem), listed (Query), removed by unregister, the cap,
      // a token moving, logout, force logout and ban (DeleteItem).
      devices: ['Query', 'PutItem', 'DeleteItem'],
      // The erasure of a user: their end-to-end encryption devices and key packages.
      keyPackages: ['Query', 'BatchWriteItem'],
    },
    indexes: {
      // Users in registration order; a user's groups and applications; outgoing friend requests; read receipts;
      // a registered token's earlier holders.
      users: ['byCreation'],
      devices: ['byToken'],
      groupMembers: ['byUser'],
      groupApplications: ['byUser'],
      friendRequests: ['byFrom'],
      userConversations: ['byConversation'],
    },
    // webhook: the after-callbacks of user, friend, group and message changes, when enabled,
    // and the redrive of the webhook dead-letter queue.
    sendsTo: ['webhook'],
    redrives: ['webhook'],
    // push: large fan-outs of messages sent over HTTP (and notifications); batchPages: the pages of a batch send.
    // notify: the offline push of the recipients without a foreground connection; userData: an erased user's media objects.
    invokes: ['push', 'batchPages', 'notify', 'userData'],
    // webhookSecret: the before-callbacks inside the routes (send, register, friends, groups).
    secrets: ['signingKey', 'adminSecret', 'webhookSecret'],
    postsToConnections: true,
    webhooks: true,
    // GET /push/config (the providers that are on, the VAPID public key) and device registration.
    pushSettings: true,
  }),
  httpMedia: fn({
    name: 'HttpMedia',
    limits: true,
    entry: 'http-media',
    description: 'The HTTP API\'s media routes: presigned uploads to and downloads from the media bucket.',
    memoryMb: 1024,
    timeoutSeconds: 15,
    tables: {
      // Checks tokens (GetItem). (The per-caller count of HTTP requests: UpdateItem of its own items only, core/iam.ts.)
      sessions: ['GetItem'],
      // An admin's upload names a user, who must be registered.
      users: ['BatchGetItem'],
      // Admin uploads and downloads, and data exports, are recorded in the audit log.
      auditLog: ['PutItem'],
    },
    secrets: ['signingKey', 'adminSecret'],
    media: true,
    // Users' data exports: the request's status object, and the archive's download URL.
    exports: 'request',
    // An export is built by the userData function, asynchronously.
    invokes: ['userData'],
  }),
  httpHistory: fn({
    name: 'HttpHistory',
    limits: true,
    entry: 'http-history',
    description: 'The HTTP API\'s routes over the Aurora history: history pages, message and user search, statistics, purges.',
    memoryMb: 1024,
    timeoutSeconds: 15,
    tables: {
      // Checks tokens (GetItem). (The per-caller count of HTTP requests: UpdateItem of its own items only, core/iam.ts.)
      sessions: ['GetItem'],
      // The user search's current profiles (BatchGetItem).
      users: ['BatchGetItem'],
      // The statistics' online counts (Scan, keys only).
      connections: ['Scan'],
      // A history page's or a purge's conversation (GetItem, BatchGetItem).
      conversations: ['GetItem', 'BatchGetItem'],
      // What a user may see: their conversations (Query) and their place in one (BatchGetItem).
      userConversations: ['BatchGetItem', 'Query'],
      // Purges find (Query, BatchGetItem) and delete (BatchWriteItem) from the offline store.
      messages: ['BatchGetItem', 'Query', 'BatchWriteItem'],
      // Purges mark the idempotency records of what they delete.
      messageIds: ['UpdateItem'],
      // A group's retention names a group that exists.
      groups: ['GetItem'],
      // Purges and admin reads of the history are recorded in the audit log (PutItem), listed by GET /admin/audit (Query).
      auditLog: ['PutItem', 'Query'],
    },
    // The audit log of one target.
    indexes: { auditLog: ['byTarget'] },
    secrets: ['signingKey', 'adminSecret'],
    // History pages, searches, statistics (ExecuteStatement); purges in a transaction.
    history: ['ExecuteStatement', 'BeginTransaction', 'CommitTransaction', 'RollbackTransaction'],
  }),
  httpE2ee: fn({
    name: 'HttpE2ee',
    // Per caller, as every HTTP route: claims drain other users' one-time key packages.
    limits: true,
    entry: 'http-e2ee',
    description: "The HTTP API's key-package directory of end-to-end encrypted conversations: publish, list, claim (atomically) and remove devices' MLS key packages.",
    memoryMb: 512,
    timeoutSeconds: 15,
    tables: {
      // Checks tokens (GetItem). (The per-caller count of HTTP requests: UpdateItem of its own items only, core/iam.ts.)
      sessions: ['GetItem'],
      // Devices and key packages: published (PutItem, BatchWriteItem, UpdateItem), listed and counted (Query, GetItem, BatchGetItem),
      // claimed (a conditional DeleteItem), removed (BatchWriteItem, DeleteItem).
      keyPackages: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
      // Whom a caller may claim from: the user exists, has not blocked them, is a friend (REQUIRE_FRIENDSHIP), or shares the group.
      users: ['BatchGetItem'],
      blacklist: ['BatchGetItem'],
      friends: ['BatchGetItem'],
      groupMembers: ['BatchGetItem'],
      // Admin calls are recorded in the audit log.
      auditLog: ['PutItem'],
    },
    secrets: ['signingKey', 'adminSecret'],
  }),
  batchPages: fn({
    name: 'BatchPages',
    entry: 'batch-pages',
    description: 'Sends one page of a batch send (POST /messages/batch) to its recipients, invoked asynchronously; hands the rest of a page it had no time for to a new invocation of itself.',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: {
      // The recipients' live connections and existence (BatchGetItem); a connection found gone (UpdateItem).
      users: ['BatchGetItem', 'UpdateItem'],
      connections: ['DeleteItem'],
      // Receive options (BatchGetItem); the sender's own position past their message (UpdateItem).
      userConversations: ['BatchGetItem', 'UpdateItem'],
      // Each recipient's message goes through the send path (1:1 and notification conversations only).
      conversations: ['UpdateItem'],
      messages: ['GetItem', 'PutItem'],
      messageIds: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
      friends: ['BatchGetItem'],
      blacklist: ['BatchGetItem'],
      batches: ['UpdateItem'],
    },
    // The rest of a page it had no time for; the offline push of the page's away recipients (one invocation per page slice).
    invokes: ['batchPages', 'notify'],
    // A page is retried (idempotent per recipient) and may wait for hours (Aurora or DynamoDB trouble).
    asyncInvoke: { envVar: 'FUNCTION_BATCH_PAGES_NAME', retryAttempts: 2, maxEventAgeSeconds: 6 * 3600 },
    // beforeSendMessage is called, signed, for each message of a batch page.
    secrets: ['webhookSecret'],
    // The page's messages are pushed inline (two users each).
    postsToConnections: true,
    webhooks: true,
  }),
  push: fn({
    name: 'Push',
    entry: 'push',
    description: "Posts a message to a slice of a large fan-out's recipients' live connections, invoked asynchronously by the sending function.",
    memoryMb: 512,
    timeoutSeconds: 10,
    // Recipients' live connections and receive options (BatchGetItem); a connection found gone (410)
    // leaves the user's `conns` (UpdateItem) and the Connections table (DeleteItem).
    tables: { users: ['BatchGetItem', 'UpdateItem'], userConversations: ['BatchGetItem'], connections: ['DeleteItem'], groupOnline: ['BatchWriteItem'] },
    postsToConnections: true,
    // The slice's recipients without a foreground connection get an offline push.
    invokes: ['notify'],
    // A push a few minutes late is still worth posting; later, sync has long taken over.
    asyncInvoke: { envVar: 'FUNCTION_PUSH_NAME', retryAttempts: 2, maxEventAgeSeconds: 300 },
  }),
  notify: fn({
    name: 'Notify',
    entry: 'notify',
    description: 'Offline push: sends a message\'s notification to the registered devices (APNs, FCM, Web Push) of recipients without a foreground connection, invoked asynchronously by the sending function.',
    memoryMb: 512,
    // A slice of 100 recipients with a few devices each, a provider call ~100 ms, 16 at a time, retries within the time left.
    timeoutSeconds: 30,
    tables: {
      // The recipients' prefs, the sender's and actors' nicknames, a roster member's connections (BatchGetItem);
      // an invalid token's entry leaves the user's `devs` map (UpdateItem); the badge's global receive option.
      users: ['GetItem', 'BatchGetItem', 'UpdateItem'],
      // The recipients' devices (Query); an invalid token's device (DeleteItem).
      devices: ['Query', 'DeleteItem'],
      // The group's name for the title (BatchGetItem); a roster found empty is marked so (UpdateItem, `rosterV`).
      groups: ['BatchGetItem', 'UpdateItem'],
      // A large group's roster of members with devices (Query); a user who lost their last device leaves it (BatchWriteItem).
      groupOnline: ['Query', 'BatchWriteItem'],
      // Group messages: recipients who blocked the sender get none (BatchGetItem).
      blacklist: ['BatchGetItem'],
      // The badge, the recipient's total unread: their conversations (Query) and the counters (BatchGetItem).
      userConversations: ['Query'],
      conversations: ['BatchGetItem'],
    },
    // beforeOfflinePush is called, signed, per recipient when enabled.
    secrets: ['webhookSecret'],
    webhooks: true,
    // A large group's roster above 100 members with devices goes to further invocations of itself, in slices.
    invokes: ['notify'],
    // What the providers keep refusing (after the in-function retries), with the reason.
    sendsToDeadLetters: true,
    // A notification an hour late is still worth showing (the providers themselves keep it for a day).
    asyncInvoke: { envVar: 'FUNCTION_NOTIFY_NAME', retryAttempts: 2, maxEventAgeSeconds: 3600 },
    // The providers' credentials, from the SecureString parameters PUSH_SETTINGS names.
    pushCredentials: true,
  }),
  archive: fn({
    name: 'Archive',
    limits: true,
    entry: 'archive',
    description: "Consumes the Messages and Outbox streams: writes messages, edits, users and groups into the Aurora history, idempotently, and queues each new message's afterSendMessage callback; copies the http function's audit log entries into AuditLog.",
    memoryMb: 512,
    // The audit log entries of the Outbox (BatchWriteItem); a user over the sending window
    // (core/services/limits.ts): `throttledUntil` on the user and their memberships (UpdateItem),
    // and the throttle's entry (PutItem). Only when a user goes over: nothing per message.
    tables: { auditLog: ['BatchWriteItem', 'PutItem'], users: ['UpdateItem'], groupMembers: ['UpdateItem'] },
    // A batch of 1,000 records in a few Data API calls, row by row when one of them fails.
    timeoutSeconds: 60,
    // Messages, edits, users and groups are written in batches.
    history: ['BatchExecuteStatement'],
    // webhook: one afterSendMessage job per new message, when that callback is enabled.
    sendsTo: ['webhook'],
    webhooks: true,
    // A record that can never be archived goes there whole, so it does not hold back its shard.
    sendsToDeadLetters: true,
  }),
  webhook: fn({
    name: 'Webhook',
    entry: 'webhook',
    description: 'POSTs queued after-callbacks, signed, to the app backend; a failed one is retried by SQS.',
    memoryMb: 512,
    // Above the longest webhook timeout (5 s) for a batch sent in parallel.
    timeoutSeconds: 10,
    secrets: ['webhookSecret'],
    webhooks: true,
  }),
  migrate: fn({
    name: 'Migrate',
    entry: 'migrate',
    description: 'Custom resource: applies the history schema migrations through the Data API at deploy, and backfills the directory mirrors.',
    memoryMb: 512,
    timeoutSeconds: 300,
    // read: the directory backfill scans Users and Groups into the history's mirrors.
    tables: { users: ['Scan'], groups: ['Scan'] },
    // The migrations' statements (ExecuteStatement); the backfill's batches (BatchExecuteStatement).
    history: ['ExecuteStatement', 'BatchExecuteStatement'],
  }),
  retention: fn({
    name: 'Retention',
    entry: 'retention',
    description: "Purges the history of messages past their retention (the deployment's historyRetentionDays, or their group's own), in batches, once a day.",
    memoryMb: 512,
    // Batches until none is left or 20 s remain; the next day's run continues.
    timeoutSeconds: 300,
    // What is due (ExecuteStatement); each batch in a transaction under the purge lock.
    history: ['ExecuteStatement', 'BeginTransaction', 'CommitTransaction', 'RollbackTransaction'],
    schedule: { rate: 'rate(1 day)', description: 'The daily retention run of the history' },
  }),
  userData: fn({
    name: 'UserData',
    entry: 'user-data',
    description: "A user's data, off the HTTP path: builds their export (profile, relations, groups, the messages they sent, their media keys) into one archive under exports/ of the media bucket; deletes an erased user's media objects. Invoked asynchronously.",
    memoryMb: 1024,
    // A user with millions of messages: the history is read in pages of up to 1 MB for up to 15 minutes.
    timeoutSeconds: 900,
    tables: {
      // The profile.
      users: ['GetItem'],
      // Friends, incoming friend requests (and outgoing through byFrom), blocks, group memberships (through byUser).
      friends: ['Query'],
      friendRequests: ['Query'],
      blacklist: ['Query'],
      groupMembers: ['Query'],
      // The names of their groups.
      groups: ['BatchGetItem'],
    },
    indexes: { friendRequests: ['byFrom'], groupMembers: ['byUser'] },
    // The messages they sent, in pages.
    history: ['ExecuteStatement'],
    // Writes the archive and its status; lists (exports) and deletes (erasure) the user's media objects.
    exports: 'build',
    userMedia: 'delete',
    // An export retried after a failure starts over (the archive is written once, at the end); an erasure's media deletion is idempotent.
    asyncInvoke: { envVar: 'FUNCTION_USER_DATA_NAME', retryAttempts: 2, maxEventAgeSeconds: 6 * 3600 },
  }),
} as const satisfies Record<FunctionKey, FunctionSpec>;


/** WebSocket routes; the route key is the frame's `action` (`$request.body.action`). */
export type WsRouteSpec =
  | {
      readonly routeKey: string;
      readonly function: FunctionKey;
      /** The function's return value is sent back to the caller as the route response. */
      readonly routeResponse: boolean;
      readonly mock?: undefined;
    }
  | {
      readonly routeKey: string;
      /** Answered by API Gateway itself (a MOCK integration and its integration response): no function runs. */
      readonly mock: MockReplySpec;
      readonly routeResponse: true;
      readonly function?: undefined;
    };

/** The actions with a route of their own, served by wsMessage (every other action reaches it through `$default`). */
export const wsActions = ['sendMsg', 'getNewestSeq', 'pullMsgs', 'markRead', 'typing'] as const;
export type WsAction = (typeof wsActions)[number];

export const wsRoutes: readonly WsRouteSpec[] = [
  { routeKey: '$connect', function: 'wsConnect', routeResponse: false },
  { routeKey: '$disconnect', function: 'wsDisconnect', routeResponse: false },
  { routeKey: '$default', function: 'wsMessage', routeResponse: true },
  ...wsActions.map((routeKey) => ({ routeKey, function: 'wsMessage' as const, routeResponse: true })),
  // The heartbeat costs no invocation (core/protocol/heartbeat.ts).
  { routeKey: 'heartbeat', mock: heartbeatReply, routeResponse: true },
];

/** The authorizer of `$connect`, reading the token from the query string. */
export const wsAuthorizer = { function: 'wsAuthorizer' as const, identitySource: 'route.request.querystring.token' };

/**
 * The functions serving the HTTP API (its routes live in `core/http/routes.ts`), by the
 * operations each serves, so that none bundles what only another's routes use: the media
 * routes (the S3 client and presigners) and the routes reading the Aurora history (the RDS
 * Data API client); `http` serves every other route. A caller sees one API either way.
 */
export const httpRouteFunctions = {
  httpMedia: ['createMediaUpload', 'getMediaDownloadUrl', 'startUserExport', 'getUserExport'],
  httpE2ee: ['publishKeyPackages', 'listE2eeDevices', 'claimKeyPackages', 'removeE2eeDevice'],
  httpHistory: ['getHistory', 'searchMessages', 'searchAllMessages', 'searchUsers', 'getStatistics', 'purgeMessages', 'getGroupRetention', 'setGroupRetention', 'listAuditLog', 'getLimits'],
} as const satisfies Partial<Record<FunctionKey, readonly string[]>>;

export type HttpFunctionKey = 'http' | keyof typeof httpRouteFunctions;

/** Every function serving HTTP API routes. */
export const httpFunctions: readonly HttpFunctionKey[] = ['http', ...(Object.keys(httpRouteFunctions) as (keyof typeof httpRouteFunctions)[])];

/** The function serving an HTTP operation (by operationId). */
export function httpFunctionOf(operationId: string): HttpFunctionKey {
  for (const [key, operationIds] of Object.entries(httpRouteFunctions) as [keyof typeof httpRouteFunctions, readonly string[]][]) {
    if (operationIds.includes(operationId)) return key;
  }
  return 'http';
}

export { fanOutDefaults } from './env-names';

/** Environment variables every function receives, besides its tables and queues. */
export const commonEnv = {
  /** Days a message stays in the DynamoDB offline store. */
  MESSAGE_TTL_DAYS: 'MESSAGE_TTL_DAYS',
  /**
   * Days the Aurora history keeps a message (groups may set their own); absent: for good. Only
   * for the functions using the history.
   */
  HISTORY_RETENTION_DAYS: 'HISTORY_RETENTION_DAYS',
  /** Milliseconds after which an allocated seq without a message is a settled hole. */
  SEQ_SETTLE_MS: 'SEQ_SETTLE_MS',
  /**
   * Fan-outs up to this many recipients are pushed by the sending function itself; larger ones
   * through asynchronous invocations of the push function (1:1 messages are always pushed inline).
   */
  INLINE_PUSH_MAX: 'INLINE_PUSH_MAX',
  /** Groups with at least this many members keep an index of their online members (GroupOnline). */
  ONLINE_INDEX_MIN_MEMBERS: 'ONLINE_INDEX_MIN_MEMBERS',
  /** `true`: 1:1 messages need the two users to be friends. */
  REQUIRE_FRIENDSHIP: 'REQUIRE_FRIENDSHIP',
  /** Seconds after sending during which a sender may revoke their own message (0: no limit). */
  REVOKE_WINDOW_SECONDS: 'REVOKE_WINDOW_SECONDS',
  /**
   * Which of a user's live connections a new connection kicks: `multiple` (none),
   * `onePerPlatform` (same platform id), `onePerClass` (same class: PC, mobile, pad, web,
   * admin) or `pcUnlimited` (a non-PC connection kicks the other non-PC ones).
   */
  MULTI_LOGIN_POLICY: 'MULTI_LOGIN_POLICY',
  LOG_LEVEL: 'LOG_LEVEL',
  /** Devices a user may register for offline push (default 10); registering one more evicts the least recently updated. */
  PUSH_MAX_DEVICES: 'PUSH_MAX_DEVICES',
  /** SSM Parameter Store names of the SecureString parameters holding the secrets. */
  SIGNING_SECRET_ID: 'SIGNING_SECRET_ID',
  /** The secret signing webhook callbacks; only when webhooks are configured. */
  WEBHOOK_SECRET_ID: 'WEBHOOK_SECRET_ID',
  ADMIN_SECRET_ID: 'ADMIN_SECRET_ID',
  /** API Gateway @connections endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
  CONNECTIONS_ENDPOINT: 'CONNECTIONS_ENDPOINT',
  /** Aurora through the Data API. */
  DB_CLUSTER_ARN: 'DB_CLUSTER_ARN',
  DB_SECRET_ARN: 'DB_SECRET_ARN',
  DB_NAME: 'DB_NAME',
  /** The media bucket's name, for functions with `media`, `exports` or `userMedia`. */
  MEDIA_BUCKET: 'MEDIA_BUCKET',
  /** Largest media upload, in bytes. */
  MEDIA_MAX_BYTES: 'MEDIA_MAX_BYTES',
  /** Comma-separated content types a media upload may declare (`image/png`, or `image/*` for a whole family). */
  MEDIA_ALLOWED_TYPES: 'MEDIA_ALLOWED_TYPES',
  /** The app backend's webhook endpoint; absent when webhooks are off (then no callback is made). */
  WEBHOOK_URL: 'WEBHOOK_URL',
  /** Bound on each webhook request, in milliseconds. */
  WEBHOOK_TIMEOUT_MS: 'WEBHOOK_TIMEOUT_MS',
  /** JSON: per callback name, `{ enabled, failurePolicy?, skipContentTypes?, userIds?, groupIds? }`. */
  WEBHOOK_CALLBACKS: 'WEBHOOK_CALLBACKS',
  /**
   * JSON: the offline push providers' settings (core/offline-push/types.ts `PushSettings`), no
   * secret in it; absent when offline push is off. Only for functions with `pushSettings` or `pushCredentials`.
   */
  PUSH_SETTINGS: 'PUSH_SETTINGS',
  /**
   * JSON: the limits against abuse (core/domain/limits.ts `LimitSettings`), or `off`; absent:
   * no limit. Only for the functions that enforce or show them (`limits`).
   */
  LIMITS: 'LIMITS',
} as const;

/**
 * Settings whose values can be long, which the stack compiles into the bundles (esbuild
 * `define` of `process.env.<NAME>`) instead of Lambda's environment: that holds 4 KB for all
 * of a function's variables, and the table and queue names, ARNs and endpoints take most of
 * it. The code must read them spelled out, `process.env.NAME`, never `process.env[name]`; the
 * local runtime sets them in the environment as any other.
 */
export const compiledSettings = [commonEnv.MEDIA_ALLOWED_TYPES, commonEnv.WEBHOOK_CALLBACKS, commonEnv.PUSH_SETTINGS, commonEnv.LIMITS, commonEnv.SIGNING_SECRET_ID, commonEnv.ADMIN_SECRET_ID, commonEnv.WEBHOOK_SECRET_ID] as const;
