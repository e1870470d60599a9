/**
 * Applies the history schema at deploy: a custom resource whose handler is the manifest's
 * `migrate` function, re-run whenever the list of migrations changes. The function is also
 * the provider's isComplete handler: long data migrations (the directory backfill) run in
 * slices, one per poll, each within the function's timeout, for up to the provider's total
 * timeout (functions/migrate.ts).
 */
import { CustomResource, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { migrationPolling, schemaVersion } from '../core/history/migrations';

export interface SchemaMigrationsProps {
  /**
   * The `migrate` function: receives the CloudFormation event and returns when the schema is
   * applied, then is polled until the data migrations are complete.
   */
  readonly migrateFunction: lambda.IFunction;
  /** The migrations wait for the cluster and its writer instance. */
  readonly cluster: rds.DatabaseCluster;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export class SchemaMigrations extends Construct {
  public readonly provider: cr.Provider;
  /** Role of the provider framework's onEvent function. */
  public readonly providerRole: iam.Role;
  /** Role of the provider framework's isComplete and timeout functions. */
  public readonly pollRole: iam.Role;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SchemaMigrationsProps) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'ProviderLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // An own role, as for the handlers, instead of AWSLambdaBasicExecutionRole; the
    // provider adds the permission to invoke the migrate function.
    const role = (this.providerRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Cirrus schema migrations provider',
    }));
    logGroup.grantWrite(role);
    // The polling side (the waiter's isComplete and timeout functions) has its own role: the
    // onEvent side's starts the waiter, which names the polling functions.
    const pollRole = (this.pollRole = new iam.Role(this, 'ProviderPollRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Cirrus schema migrations provider: polls the migrate function',
    }));
    logGroup.grantWrite(pollRole);

    // The framework invokes the function by its unqualified ARN; the plain grantInvoke would
    // also allow every version and alias (`<arn>:*`).
    const migrateFunction = props.migrateFunction;
    const onEventHandler: lambda.IFunction = Object.create(migrateFunction, {
      grantInvoke: {
        value: (grantee: iam.IGrantable) =>
          iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [migrateFunction.functionArn] }),
      },
    });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler,
      isCompleteHandler: onEventHandler,
      queryInterval: Duration.seconds(migrationPolling.queryIntervalSeconds),
      totalTimeout: Duration.minutes(migrationPolling.totalTimeoutMinutes),
      frameworkOnEventRole: role,
      frameworkCompleteAndTimeoutRole: pollRole,
      logGroup,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      // CloudFormation's longest wait for a custom resource; the provider times out before it.
      serviceTimeout: Duration.hours(1),
      resourceType: 'Custom::CirrusSchemaMigrations',
      // A new migration changes the version, hence the properties, hence an Update event.
      properties: { schemaVersion },
    });
    this.resource.node.addDependency(props.cluster);
  }
}
