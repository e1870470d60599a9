/**
 * The media store: one private S3 bucket that clients reach only through URLs the HTTP
 * function presigns, plus a bucket for its server access logs (who read or wrote which
 * object, for abuse reports).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_EXPIRATION_DAYS, EXPORT_PREFIX, MEDIA_PREFIX } from '../core/domain/media';

export interface MediaBucketProps {
  /** Days after which objects are deleted; undefined keeps them. */
  readonly expirationDays?: number;
  /** Origins allowed to upload from a browser and read the answers (`*` for any). */
  readonly corsAllowedOrigins: readonly string[];
  /** RETAIN keeps both buckets with the stack deleted; DESTROY empties and deletes them. */
  readonly removalPolicy: RemovalPolicy;
}

/** Access logs are for investigating recent abuse; a year of them is plenty. */
const ACCESS_LOG_DAYS = 365;

export class MediaBucket extends Construct {
  /** The media objects, under `media/`. */
  public readonly bucket: s3.Bucket;
  /** Server access logs of {@link bucket}. */
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: MediaBucketProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;
    const common = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // No ACLs: the bucket owns every object, whoever wrote it.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    } as const;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(ACCESS_LOG_DAYS) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...common,
      lifecycleRules: [
        // A failed multipart upload keeps billing for its parts until aborted.
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...(props.expirationDays !== undefined ? [{ id: 'ExpireMedia', prefix: MEDIA_PREFIX, expiration: Duration.days(props.expirationDays) }] : []),
        // Users' data exports hold everything about a user: kept only long enough to be fetched.
        { id: 'ExpireExports', prefix: EXPORT_PREFIX, expiration: Duration.days(EXPORT_EXPIRATION_DAYS) },
      ],
      // Browsers upload with a form POST straight to S3 and download with GET; the
      // presigned signature, not CORS, is what authorizes them.
      cors: [
        {
          allowedOrigins: [...props.corsAllowedOrigins],
          allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag', 'Location'],
          maxAge: 3600,
        },
      ],
    });
    this.logTo(this.accessLogs, 'media-bucket/');
  }

  /**
   * Server access logging delivered under a bucket policy, as AWS recommends, rather than
   * the LogDeliveryWrite ACL that `serverAccessLogsBucket` sets up without the
   * `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` flag: ACLs stay disabled on both
   * buckets, whatever the embedding app's flags.
   */
  private logTo(logs: s3.Bucket, prefix: string): void {
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: logs.bucketName, logFilePrefix: prefix };
    logs.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [logs.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
  }

  /** The ARN pattern of the media objects, the only ones functions may touch. */
  get objectsArn(): string {
    return this.bucket.arnForObjects(`${MEDIA_PREFIX}*`);
  }

  /** The ARN pattern of the users' data exports. */
  get exportsArn(): string {
    return this.bucket.arnForObjects(`${EXPORT_PREFIX}*`);
  }
}
