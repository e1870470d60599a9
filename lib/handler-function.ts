/**
 * One Lambda function of the manifest, bundled from `functions/<entry>.ts`, with its own
 * log group and a role that starts with nothing but writing to that log group.
 */
import * as path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../core/manifest';
import type { LogLevel } from '../core/log';
import { bundleSettings, defineSettings } from './bundling';

export interface HandlerFunctionProps {
  readonly spec: FunctionSpec;
  /** Directory holding `package-lock.json` and `functions/`. */
  readonly projectRoot: string;
  readonly environment: Record<string, string>;
  /**
   * Settings compiled into the bundle as `process.env.<NAME>` (esbuild `define`) rather
   * than set in Lambda's environment, which holds 4 KB for all variables together.
   */
  readonly compiledSettings?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The handlers' level (`LOG_LEVEL`). The lines below it are buffered per invocation and
   * written when it fails (core/log.ts), so Lambda's application log level lets every level
   * through: the Logger is what filters.
   */
  readonly logLevel: LogLevel;
  /** X-Ray active tracing, and the Powertools Tracer compiled into the bundle. */
  readonly tracing?: boolean;
  /** The `service` of the logs and metrics (the stack's name), compiled into the bundle. */
  readonly serviceName?: string;
}

/**
 * A manifest function as a `NodejsFunction`: arm64, Node.js 24, bundled by esbuild with the
 * settings of lib/bundling.ts (minified ESM, the AWS SDK inside, the credential provider
 * reduced to the environment's) and source maps, logging in Lambda's JSON format.
 */
export class HandlerFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly role: iam.Role;
  /** What `compiledSettings` compiled into the bundle (empty when none). */
  public readonly compiledSettings: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.compiledSettings = { ...props.compiledSettings };

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    // An own role instead of AWSLambdaBasicExecutionRole, which may create and write any
    // log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Cirrus ${spec.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(props.projectRoot, 'functions', `${spec.entry}.ts`),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      // Off: no TracingConfig (Lambda's default, PassThrough), and no X-Ray permission.
      ...(props.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      // JSON log format: Lambda filters the handlers' JSON lines by their `level` itself, and
      // with the system level at WARN it writes no START, END or REPORT line per invocation
      // (billed bytes that say nothing the metrics do not); failures such as timeouts still
      // appear.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.DEBUG,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Stack traces point into functions/ and core/ rather than the minified bundle.
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: bundleSettings.target,
        minify: bundleSettings.minify,
        sourceMap: true,
        // The maps only need to locate lines; the sources would double the package.
        sourcesContent: false,
        mainFields: [...bundleSettings.mainFields],
        banner: bundleSettings.banner,
        externalModules: [],
        esbuildArgs: { '--alias': Object.entries(bundleSettings.alias).map(([pkg, to]) => `${pkg}=${to}`) },
        define: defineSettings(this.compiledSettings, { tracing: props.tracing, serviceName: props.serviceName }),
      },
    });
  }
}
