/**
 * The cost model: measured counts in, dollars out. One price table (`prices.ts`), the
 * manifest's memory sizes, and the stated assumptions; nothing else.
 */
import { functions, queues, type FunctionKey } from '../core/manifest';
import { shardsFor } from '../core/store/group-online';
import { assumptions, prices } from './prices';
import type { Scenario } from './suites/requests';

export interface Cost {
  apiGateway: number;
  lambdaRequests: number;
  lambdaCompute: number;
  sqs: number;
  dynamoWrites: number;
  dynamoReads: number;
  history: number;
  logs: number;
  total: number;
}

export interface Counts {
  wsMessages: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  dynamoRequests: number;
  writeUnits: number;
  readUnits: number;
  dataApiRequests: number;
  logBytes: number;
}

/**
 * The functions Lambda feeds from an SQS queue: each of their batches costs the event
 * source's receive and delete requests. Pushes and batch pages are asynchronous invocations:
 * no SQS request, only the invocation (the `Invoke` request is not billed apart from it). The archive is fed by DynamoDB Streams (the
 * Messages and Outbox tables), whose reads by Lambda are free, so its invocations (one per
 * stream batch, as measured) cost only the invocation and its compute.
 */
const SQS_CONSUMERS: readonly FunctionKey[] = [...new Set(Object.values(queues).map((q) => q.consumer))];

/** The construct's settings that change the bill but not what the local runtime measures. */
export interface Deployment {
  /** The `webSocketAccessLogs` prop: a billed access-log line per inbound frame, connect and disconnect. */
  webSocketAccessLogs: boolean;
}

/** What the benchmark prices: the construct's defaults. */
export const defaultDeployment: Deployment = { webSocketAccessLogs: false };

/**
 * Everything billed, per unit of the scenario (a message, a connect, …). Log bytes are the
 * handlers' JSON lines at the default level (Lambda's own START/END/REPORT lines are off:
 * JSON format, system level WARN), plus the WebSocket access log when it is on.
 */
export function countsPerUnit(s: Scenario, deployment: Deployment = defaultDeployment): Counts {
  const m = s.measurement;
  const per = (n: number) => n / s.units;
  const inv = Object.entries(m.meter.invocations) as [FunctionKey, { count: number; totalMs: number }][];
  const invocations = inv.reduce((n, [, v]) => n + v.count, 0);
  const gbSeconds = inv.reduce((n, [fn, v]) => n + (v.totalMs / 1000) * (functions[fn].memoryMb / 1024), 0);
  const esmBatches = inv.filter(([fn]) => SQS_CONSUMERS.includes(fn)).reduce((n, [, v]) => n + v.count, 0);
  const sqsSent = Object.values(m.aws.SQS ?? {}).reduce((a, b) => a + b, 0);
  const dynamoRequests = Object.values(m.aws.DynamoDB ?? {}).reduce((a, b) => a + b, 0);
  return {
    wsMessages: per(m.meter.wsIn + m.meter.wsOut),
    lambdaInvocations: per(invocations),
    lambdaGbSeconds: per(gbSeconds),
    sqsRequests: per(sqsSent + esmBatches * assumptions.sqsRequestsPerBatch),
    dynamoRequests: per(dynamoRequests),
    writeUnits: per(m.capacity.write),
    readUnits: per(m.capacity.read),
    dataApiRequests: per(Object.values(m.aws.RDSData ?? {}).reduce((a, b) => a + b, 0)),
    logBytes: per(m.logBytes + (deployment.webSocketAccessLogs ? accessLogLines(m.meter) * assumptions.webSocketAccessLogBytes : 0)),
  };
}

/**
 * WebSocket access-log lines: one per inbound frame (metered in 32 KB units, which count a
 * frame once unless it is larger) and one each for a connection's `$connect` and `$disconnect`.
 */
function accessLogLines(meter: Scenario['measurement']['meter']): number {
  return meter.wsIn + 2 * meter.connects;
}

/** Aurora's share per archived message: compute at the assumed throughput of 0.5 ACU, plus I/O. */
export const auroraPerMessage = (0.5 * prices.auroraAcuHour.usd) / (assumptions.auroraMessagesPerSecondAtHalfAcu * 3600) + assumptions.auroraIoPerMessage * prices.auroraIo.usd;

export function costPerUnit(s: Scenario, deployment: Deployment = defaultDeployment): Cost {
  const c = countsPerUnit(s, deployment);
  const archived = s.unit === 'message' ? 1 : 0;
  const cost = {
    apiGateway: c.wsMessages * prices.apiGatewayWsMessage.usd,
    lambdaRequests: c.lambdaInvocations * prices.lambdaRequest.usd,
    lambdaCompute: c.lambdaGbSeconds * prices.lambdaArmGbSecond.usd,
    sqs: c.sqsRequests * prices.sqsRequest.usd,
    dynamoWrites: c.writeUnits * prices.dynamoWriteUnit.usd,
    dynamoReads: c.readUnits * prices.dynamoReadUnit.usd,
    history: c.dataApiRequests * prices.dataApiRequest.usd + archived * auroraPerMessage,
    logs: (c.logBytes / 1e9) * prices.cloudWatchLogsGb.usd,
  };
  return { ...cost, total: Object.values(cost).reduce((a, b) => a + b, 0) };
}

/**
 * AWS's simple-websockets-chat-app sample, priced by the same table: every message is one
 * Lambda invocation (128 MB) that Scans the whole connections table and posts to every
 * connection, the sender included. `connected` is the number of open connections.
 */
export function sampleAppPerMessage(connected: number, durationMs: number): Cost & { notes: string } {
  const itemBytes = 100;
  // A Scan reads 4 KB units, eventually consistent at half a unit each.
  const scanUnits = Math.max(1, Math.ceil((connected * itemBytes) / 4096)) * 0.5;
  const cost = {
    apiGateway: (1 + connected) * prices.apiGatewayWsMessage.usd,
    lambdaRequests: prices.lambdaRequest.usd,
    lambdaCompute: (durationMs / 1000) * (128 / 1024) * prices.lambdaX86GbSecond.usd,
    sqs: 0,
    dynamoWrites: 0,
    dynamoReads: scanUnits * prices.dynamoReadUnit.usd,
    history: 0,
    logs: ((assumptions.lambdaPlatformLogBytes + 200) / 1e9) * prices.cloudWatchLogsGb.usd,
  };
  return { ...cost, total: Object.values(cost).reduce((a, b) => a + b, 0), notes: 'x86 Lambda as in the sample; no history, no offline store, no ack' };
}

/** DynamoDB read units of a 4 KB-rounded read of `bytes`, strongly consistent (1 per 4 KB) or not (0.5); at least one 4 KB unit. */
const readUnits = (bytes: number, strong: boolean) => Math.max(1, Math.ceil(bytes / 4096)) * (strong ? 1 : 0.5);

export interface GroupReads {
  members: number;
  online: number;
  /** Shards of the group's online index (0 without one). */
  shards: number;
  /** Read units one message's recipient lookup costs. */
  readUnits: number;
  usd: number;
  steps: { step: string; readUnits: number }[];
}

/**
 * The read units a group message's recipients cost, with or without the online index,
 * modelled from the item sizes (`assumptions`) and the request shapes of
 * core/services/push.ts and core/store/group-online.ts. Without the index: a Query of the
 * member ids (eventually consistent, 1 MB pages), then one BatchGetItem per 50 members of
 * their user item and conversation row, half a unit each, online or not. With it: one
 * strongly consistent GetItem of the group's index state, then one strongly consistent
 * Query per shard, charged on the online entries it returns.
 */
export function groupMessageReads(members: number, online: number, indexed: boolean): GroupReads {
  const steps: { step: string; readUnits: number }[] = [];
  let shards = 0;
  if (!indexed) {
    const memberBytes = members * assumptions.groupMemberItemBytes;
    const pages = Math.max(1, Math.ceil(memberBytes / 1_048_576));
    steps.push({ step: `member ids: ${pages} Query page(s)`, readUnits: Math.max(pages * 0.5, Math.ceil(memberBytes / 4096) * 0.5) });
    steps.push({ step: `every member's user item and conversation row (${Math.ceil(members / 50)} BatchGetItem)`, readUnits: members * 2 * 0.5 });
  } else {
    shards = shardsFor(members);
    const perShard = (online / shards) * assumptions.groupOnlineEntryBytes;
    steps.push({ step: "the group's index state (GetItem, strong)", readUnits: 1 });
    steps.push({ step: `${shards} shard Query(s), strong, ~${Math.round(perShard).toLocaleString('en-US')} B each`, readUnits: shards * readUnits(perShard, true) });
  }
  const units = steps.reduce((n, x) => n + x.readUnits, 0);
  return { members, online, shards, readUnits: units, usd: units * prices.dynamoReadUnit.usd, steps };
}

/**
 * What the index adds to a connect/disconnect cycle of a member of `indexedGroups` indexed
 * groups: one entry written at $connect and deleted at $disconnect per group (one write
 * unit each), and at $connect one strong GetItem that checks the user's groups did not
 * change meanwhile (one read unit).
 */
export function onlineIndexPerConnect(indexedGroups: number): { writeUnits: number; readUnits: number; usd: number } {
  const writeUnits = 2 * indexedGroups;
  const readUnits = indexedGroups > 0 ? 1 : 0;
  return { writeUnits, readUnits, usd: writeUnits * prices.dynamoWriteUnit.usd + readUnits * prices.dynamoReadUnit.usd };
}

/**
 * Messages per member-session above which the index is cheaper: a session costs 2 write
 * units per indexed group, and every message without the index reads each member's item
 * and row (one read unit), online or not.
 */
export const onlineIndexBreakEven = (2 * prices.dynamoWriteUnit.usd) / (2 * 0.5 * prices.dynamoReadUnit.usd);
