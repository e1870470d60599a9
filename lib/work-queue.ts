/**
 * One SQS queue of the manifest with its dead-letter queue and an alarm that fires as
 * soon as anything is dead-lettered (unless the queue is unused: an alarm costs money idle).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueSpec } from '../core/manifest';

export interface WorkQueueProps {
  readonly spec: QueueSpec;
  readonly alarmTopic?: sns.ITopic;
  /**
   * Whether the dead-letter queue gets its alarm (default true). Off for a queue nothing
   * sends to in this deployment (the webhook queue while webhooks are off): an alarm is
   * billed every month, and that dead-letter queue can never fill.
   */
  readonly alarm?: boolean;
}

/**
 * A standard queue whose messages move to their own DLQ after `maxReceiveCount`
 * receives. Dead-lettered messages are kept 14 days (the SQS maximum) so an operator
 * can inspect and redrive them. Queues are deleted with the stack whatever the removal
 * policy: they hold only work derived from the tables, not data of record.
 */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** Undefined when `alarm` is false. */
  public readonly deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const { spec } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
    });

    if (props.alarm === false) return;
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Cirrus: messages of the ${spec.name} queue failed ${spec.maxReceiveCount} times and wait in its dead-letter queue.`,
      // SQS publishes queue metrics every five minutes; a shorter period only sees gaps.
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    }
  }
}
