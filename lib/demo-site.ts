/**
 * The web chat demo (`web/`) and its admin console (`/admin/`) as a static site: a private S3 bucket behind CloudFront (Origin
 * Access Control, HTTPS only, security headers), plus a `config.json` at the site root that
 * tells the demo where this deployment's APIs are and which URL of the app backend issues
 * user tokens. Optional: {@link CirrusStack} creates it only with its `demoSite` prop.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeDemoSiteNagFindings } from './nag-suppressions';

/** Where `npm run web:build` puts the demo. */
export const DEFAULT_WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

/** The name of the configuration file the demo reads at the site root. */
export const DEMO_CONFIG_FILE = 'config.json';

/** What the deployed demo reads from `/config.json`. */
export interface DemoSiteConfig {
  /** The deployment's WebSocket URL (`wss://…/live`). */
  readonly wsUrl: string;
  /** The deployment's HTTP API base URL. */
  readonly apiUrl: string;
  /** The app backend's endpoint: `POST {userId}` with the browser's credentials → `{token}`. */
  readonly tokenUrl: string;
}

/** The stack-level switch: `new CirrusStack(app, 'Cirrus', { demoSite: { tokenUrl } })`. */
export interface DemoSiteOptions {
  /**
   * The app backend's token endpoint, an absolute `https://` URL (`http://localhost…` is allowed
   * for a backend on a developer's machine). The demo POSTs `{"userId": "…"}` to it with
   * `credentials: 'include'` and expects `{"token": "…"}`: see docs/deploy.md.
   */
  readonly tokenUrl: string;
  /** The built demo (default `web/dist`, written by `npm run web:build`). */
  readonly distPath?: string;
}

export interface CirrusDemoSiteProps extends DemoSiteOptions {
  /** The deployment's WebSocket URL, written to `config.json`. */
  readonly webSocketUrl: string;
  /** The deployment's HTTP API URL, written to `config.json`. */
  readonly httpApiUrl: string;
  /**
   * RETAIN_ON_UPDATE_OR_DELETE (default) keeps both buckets with the stack deleted, but not when
   * their creation rolls back; DESTROY empties and deletes them.
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Retention of the deployment function's log group (default one month). */
  readonly logRetention?: logs.RetentionDays;
}

/** Access logs are for investigating recent abuse; a year of them is plenty. */
const ACCESS_LOG_DAYS = 365;

/**
 * What the pages may load and talk to. Scripts and styles come from the site only (the admin
 * console's charts are inline SVG styled by the site's stylesheet); the APIs, the token URL and
 * the presigned media URLs are on other origins, so connections and pictures may use any HTTPS
 * (and WSS) origin.
 */
export const DEMO_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "media-src 'self' blob: https:",
  "connect-src 'self' https: wss:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The admin console's paths: `/admin`, `/admin/` and the files of `admin/`. */
export const ADMIN_PATH_PATTERN = '/admin*';

/**
 * The CloudFront Function (viewer request) of {@link ADMIN_PATH_PATTERN}: a path ending in `/`
 * gets `index.html`, and `/admin` redirects to `/admin/` (so the page's relative URLs resolve).
 */
export const ADMIN_INDEX_FUNCTION = `function handler(event) {
  var request = event.request;
  if (request.uri === '/admin') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/admin/' }, 'cache-control': { value: 'no-cache' } } };
  }
  if (request.uri.endsWith('/')) request.uri += 'index.html';
  return request;
}`;

/**
 * A physical name for an account-global resource (CloudFront's are one namespace for the whole
 * account, in every region): the stack name, for people, then `kind`, then the UUID of the stack
 * id, unique to this stack in this account and region, so a second stack, or the same stack in
 * another region, never collides with it. At most `maxLength` characters, letters, digits and
 * hyphens only.
 */
export function stackUniqueName(scope: Construct, kind: string, maxLength: number): string {
  const uuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  const room = maxLength - STACK_UUID_LENGTH - kind.length - 2;
  const stackName = Stack.of(scope).stackName.replace(/[^A-Za-z0-9-]/g, '').slice(0, Math.max(0, room));
  return `${stackName}-${kind}-${uuid}`;
}

/** A stack id ends in `/` and a UUID of 36 characters. */
const STACK_UUID_LENGTH = 36;

/** Fails the synth with a sentence saying what is wrong with `tokenUrl`, or returns it. */
export function validateTokenUrl(tokenUrl: string): string {
  if (Token.isUnresolved(tokenUrl)) return tokenUrl;
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    throw new Error(`demoSite.tokenUrl must be an absolute URL such as https://app.example.com/cirrus/token, not ${JSON.stringify(tokenUrl)}.`);
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new Error(`demoSite.tokenUrl must use https:// (the demo is served over HTTPS), not ${JSON.stringify(tokenUrl)}.`);
  }
  return tokenUrl;
}

export class CirrusDemoSite extends Construct {
  /** The private bucket holding the site. */
  public readonly bucket: s3.Bucket;
  /** Server access logs of {@link bucket} and the distribution's standard logs. */
  public readonly accessLogs: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** Serves `/admin/` as `admin/index.html` (see {@link ADMIN_INDEX_FUNCTION}). */
  public readonly adminIndexFunction: cloudfront.Function;
  public readonly deployment: s3deploy.BucketDeployment;
  /** `https://{distribution}.cloudfront.net/` */
  public readonly url: string;
  /** What `config.json` holds. */
  public readonly config: DemoSiteConfig;
  public readonly output: CfnOutput;

  constructor(scope: Construct, id: string, props: CirrusDemoSiteProps) {
    super(scope, id);
    const distPath = resolve(props.distPath ?? DEFAULT_WEB_DIST);
    if (!existsSync(join(distPath, 'index.html'))) {
      throw new Error(
        `The demo site needs the built web chat demo, and ${distPath} has no index.html: run \`npm run web:build\` first, then synth again.`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const common = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy,
      autoDeleteObjects: destroy,
    } as const;

    // CloudFront standard logs are delivered with an ACL grant, so this bucket keeps ACLs
    // (object writer owns), but all public access stays blocked.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(ACCESS_LOG_DAYS) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', { ...common, objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED });
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogs.bucketName,
      logFilePrefix: 'site-bucket/',
    };
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogs.arnForObjects('site-bucket/*')],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );

    // CloudFront names are one namespace per account across regions: each names its stack.
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      responseHeadersPolicyName: stackUniqueName(this, 'demo-headers', 128),
      comment: 'Cirrus demo: security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: DEMO_CONTENT_SECURITY_POLICY, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });

    const siteBehavior: cloudfront.BehaviorOptions = {
      origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
        originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
          originAccessControlName: stackUniqueName(this, 'demo-oac', 64),
          description: 'Cirrus demo: CloudFront reads the site bucket',
        }),
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: headers,
      compress: true,
    };
    // The admin console is the build's admin/index.html: S3 has no folder index pages, so a
    // viewer-request function maps `/admin/` to it (and redirects `/admin` there).
    this.adminIndexFunction = new cloudfront.Function(this, 'AdminIndex', {
      functionName: stackUniqueName(this, 'demo-admin', 64),
      comment: 'Cirrus demo: /admin/ is admin/index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(ADMIN_INDEX_FUNCTION),
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Cirrus web chat demo and admin console',
      defaultRootObject: 'index.html',
      defaultBehavior: siteBehavior,
      additionalBehaviors: {
        [ADMIN_PATH_PATTERN]: {
          ...siteBehavior,
          functionAssociations: [{ function: this.adminIndexFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.accessLogs,
      logFilePrefix: 'distribution/',
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    this.config = { wsUrl: props.webSocketUrl, apiUrl: props.httpApiUrl, tokenUrl: validateTokenUrl(props.tokenUrl) };
    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      // The URLs are deploy-time tokens: jsonData resolves them when the deployment runs.
      sources: [s3deploy.Source.asset(distPath), s3deploy.Source.jsonData(DEMO_CONFIG_FILE, this.config)],
      // Browsers revalidate every file (cheap: CloudFront answers with ETags), and the deploy
      // invalidates the distribution, so a new build or configuration shows at once.
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      logGroup: new logs.LogGroup(this, 'DeploymentLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy }),
      memoryLimit: 256,
      // The site's files are built, not data: deleting the deployment (the stack, or the rollback
      // of a failed create) deletes them, so the emptied bucket can be deleted with its creation.
      retainOnDelete: false,
    });

    this.output = new CfnOutput(this, 'Url', { value: this.url, description: 'The web chat demo (CloudFront); the admin console is at admin/' });
    acknowledgeDemoSiteNagFindings(this);
  }

  /** The deployment function is the CDK's singleton, a child of the stack rather than of this construct. */
  get deploymentHandlers(): IConstruct[] {
    return Stack.of(this).node.children.filter((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
  }
}
