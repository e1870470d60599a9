/**
 * List prices the cost model uses: us-east-1, on-demand, without free tiers unless said.
 * Each entry names its source and the date it was read; update both together.
 */
export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
  readonly date: string;
}

const READ = '2026-11-22';

export const prices = {
  apiGatewayWsMessage: { usd: 1.0 / 1e6, per: 'WebSocket message (32 KB unit), first 1 billion a month', source: 'https://aws.amazon.com/api-gateway/pricing/', date: READ },
  apiGatewayWsConnectionMinute: { usd: 0.25 / 1e6, per: 'connection-minute', source: 'https://aws.amazon.com/api-gateway/pricing/', date: READ },
  lambdaRequest: { usd: 0.2 / 1e6, per: 'invocation', source: 'https://aws.amazon.com/lambda/pricing/', date: READ },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 'GB-second, arm64', source: 'https://aws.amazon.com/lambda/pricing/', date: READ },
  lambdaX86GbSecond: { usd: 0.0000166667, per: 'GB-second, x86_64', source: 'https://aws.amazon.com/lambda/pricing/', date: READ },
  sqsRequest: { usd: 0.4 / 1e6, per: 'standard-queue request (64 KB chunk)', source: 'https://aws.amazon.com/sqs/pricing/', date: READ },
  dynamoWriteUnit: { usd: 0.625 / 1e6, per: 'on-demand write request unit', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/', date: READ },
  dynamoReadUnit: { usd: 0.125 / 1e6, per: 'on-demand read request unit', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/', date: READ },
  dataApiRequest: { usd: 0.35 / 1e6, per: 'RDS Data API request (first billion)', source: 'https://aws.amazon.com/rds/aurora/pricing/ (Data API) [unverified]', date: READ },
  auroraAcuHour: { usd: 0.12, per: 'Aurora Serverless v2 ACU-hour (Aurora Standard)', source: 'https://aws.amazon.com/rds/aurora/pricing/', date: READ },
  auroraIo: { usd: 0.2 / 1e6, per: 'Aurora Standard I/O request', source: 'https://aws.amazon.com/rds/aurora/pricing/', date: READ },
  cloudWatchLogsGb: { usd: 0.5, per: 'GB of log data ingested (standard class)', source: 'https://aws.amazon.com/cloudwatch/pricing/', date: READ },
  cloudWatchAlarmMetricMonth: { usd: 0.1, per: 'metric read by a standard-resolution alarm (each metric of a math-expression alarm), month', source: 'https://aws.amazon.com/cloudwatch/pricing/', date: READ },
  cloudWatchDashboardMonth: { usd: 3, per: 'dashboard, month, beyond the free tier', source: 'https://aws.amazon.com/cloudwatch/pricing/', date: READ },
  secretMonth: { usd: 0.4, per: 'secret, month', source: 'https://aws.amazon.com/secrets-manager/pricing/', date: READ },
  // Standard-tier parameters and standard throughput carry no charge; a SecureString's KMS requests on the AWS managed key aws/ssm (no monthly fee) bill $0.03 per 10,000 after 20,000 free a month.
  ssmStandardParameterMonth: { usd: 0, per: 'standard-tier Parameter Store parameter, month', source: 'https://aws.amazon.com/systems-manager/pricing/ (Parameter Store); https://aws.amazon.com/kms/pricing/', date: READ },
  kmsKeyMonth: { usd: 1.0, per: 'customer managed KMS key, month', source: 'https://aws.amazon.com/kms/pricing/', date: READ },
} as const satisfies Record<string, Price>;

/** The chat SaaS list prices the report compares with (per million messages, as published). */
export const saasPerMillion = [
  { vendor: 'Ably', usd: 2.5, note: 'per million messages, plus $1/M connection-minutes and a monthly base' },
  { vendor: 'PubNub', usd: 123, note: 'per million replicated transactions (+$33/M edge)' },
  { vendor: 'Amazon Connect chat', usd: 10_000, note: '$0.01 per message' },
] as const;

/** Assumptions the model cannot measure locally, stated once. */
export const assumptions = {
  /**
   * Bytes of START/END/REPORT lines Lambda writes to CloudWatch Logs per invocation in the
   * text log format (AWS's sample app). Cirrus's functions use the JSON format with the system
   * log level at WARN, which writes none of them.
   */
  lambdaPlatformLogBytes: 260,
  /**
   * Bytes one WebSocket stage access-log line costs (the default format's ~130 bytes plus
   * CloudWatch Logs' 26 bytes per event), one per frame a client sends and one per `$connect`
   * and `$disconnect`; charged only when `webSocketAccessLogs` is on.
   */
  webSocketAccessLogBytes: 160,
  /**
   * Lambda's SQS event source: one ReceiveMessage and one DeleteMessageBatch per batch it
   * invokes (idle long polling is priced separately in the idle cost).
   */
  sqsRequestsPerBatch: 2,
  /** Idle long polling: Lambda runs about 5 pollers per SQS event source, each a 20 s ReceiveMessage. */
  idlePollersPerEventSource: 5,
  idlePollSeconds: 20,
  /** Aurora: the history at 0.5 ACU absorbs this many archived messages a second (stream batches of up to 1,000). */
  auroraMessagesPerSecondAtHalfAcu: 500,
  /**
   * Aurora I/O requests per archived message: Aurora Standard bills writes in 4 KB units of
   * log records; a batch of 100 rows (~50 KB with its primary-key and full-text index
   * entries) is some 25 units, so about a quarter per message; rounded up.
   */
  auroraIoPerMessage: 0.5,
  /**
   * Bytes of one GroupOnline entry as DynamoDB sizes it (attribute names and values: `gs`
   * `<groupId>#<shard>`, `uc` `<userId>#<connectionId>`, platform, connectedAtMs, expiry):
   * about 70 with ids of 10 to 14 characters. A Query is charged on the bytes it returns.
   */
  groupOnlineEntryBytes: 70,
  /**
   * Bytes of a GroupMembers item (group id, user id, role, joinedAt; a nickname or mute adds
   * more): what the member-id Query of a group without an online index pays for.
   */
  groupMemberItemBytes: 90,
  /**
   * CloudWatch's free tier: "3 Dashboards for up to 50 metrics per month" per account
   * (https://aws.amazon.com/cloudwatch/pricing/); the idle cost assumes the stack's dashboards are
   * among the three, and bills one reading more than 50 metrics at $3 a month.
   */
  freeDashboards: 3,
  freeDashboardMetrics: 50,
} as const;
