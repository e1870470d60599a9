/**
 * The full message history: Aurora PostgreSQL Serverless v2 in an isolated VPC, reached
 * only through the RDS Data API, so no function joins the VPC and no NAT gateway bills
 * by the hour.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

export interface HistoryDatabaseProps {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Only with `minCapacity` 0. */
  readonly autoPauseSeconds?: number;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Aurora PostgreSQL 16 supports a minimum of 0 ACU (auto-pause) from 16.3 on and the Data
 * API on Serverless v2; pinning a recent minor keeps deploys reproducible, and automatic
 * minor upgrades keep it patched.
 */
const engineVersion = rds.AuroraPostgresEngineVersion.VER_16_13;

export class HistoryDatabase extends Construct {
  /** The database every history statement runs in. */
  public static readonly databaseName = 'cirrus';

  public readonly vpc: ec2.Vpc;
  public readonly cluster: rds.DatabaseCluster;
  /** The master user's generated credentials, used by the Data API. */
  public readonly credentials: rds.DatabaseSecret;

  constructor(scope: Construct, id: string, props: HistoryDatabaseProps) {
    super(scope, id);

    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Nothing runs in the default security group, and restricting it would add a
      // custom-resource Lambda for no gain.
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: engineVersion }),
      writer: rds.ClusterInstance.serverlessV2('writer', { publiclyAccessible: false, autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: props.minCapacity,
      serverlessV2MaxCapacity: props.maxCapacity,
      serverlessV2AutoPauseDuration: props.autoPauseSeconds === undefined ? undefined : Duration.seconds(props.autoPauseSeconds),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      credentials: rds.Credentials.fromGeneratedSecret('cirrus_admin'),
      defaultDatabaseName: HistoryDatabase.databaseName,
      enableDataApi: true,
      // Costs nothing and lets an operator connect with IAM instead of the master password.
      iamAuthentication: true,
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      removalPolicy: props.removalPolicy,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
    });
    // The credentials are as much data as the cluster: without them a retained cluster
    // cannot be reached through the Data API. (`cluster.secret` is the attachment, not
    // the secret itself.)
    this.credentials = this.cluster.node.findChild('Secret') as rds.DatabaseSecret;
    this.credentials.applyRemovalPolicy(props.removalPolicy);
  }
}
