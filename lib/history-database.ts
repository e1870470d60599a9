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
  /**
   * Engine version of a new cluster (`aurora.engineVersion`). A major version only (`16`)
   * lets AWS pick that major's current default minor, so a fresh deploy never names a retired one.
   */
  readonly engineVersion: rds.AuroraPostgresEngineVersion;
  readonly removalPolicy: RemovalPolicy;
  /** Off by default: it would keep the rollback of a failed create from deleting the cluster. */
  readonly deletionProtection: boolean;
  readonly logRetention: logs.RetentionDays;
}

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
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: props.engineVersion }),
      // Automatic minor version upgrades in the maintenance window keep the cluster patched
      // (the template's major-only version never asks CloudFormation to change it back).
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
      deletionProtection: props.deletionProtection,
    });
    // The CDK deletes the writer instance and the subnet group unless the policy is RETAIN, and
    // the network always; they follow the cluster instead, so a retained cluster keeps its writer,
    // subnet group, security group and VPC (whose deletion would fail anyway while the cluster's
    // network interfaces are in it), and deleting the stack completes.
    if (props.removalPolicy !== RemovalPolicy.DESTROY) {
      for (const child of [...this.cluster.node.findAll(), ...this.vpc.node.findAll()]) {
        const network =
          child instanceof ec2.CfnVPC || child instanceof ec2.CfnSubnet || child instanceof ec2.CfnRouteTable || child instanceof ec2.CfnSubnetRouteTableAssociation || child instanceof ec2.CfnSecurityGroup;
        if (network || child instanceof rds.CfnDBInstance || child instanceof rds.CfnDBSubnetGroup) child.applyRemovalPolicy(props.removalPolicy);
      }
    }
    // The credentials are as much data as the cluster: without them a retained cluster
    // cannot be reached through the Data API. (`cluster.secret` is the attachment, not
    // the secret itself.)
    this.credentials = this.cluster.node.findChild('Secret') as rds.DatabaseSecret;
    this.credentials.applyRemovalPolicy(props.removalPolicy);
  }
}
