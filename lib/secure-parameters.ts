/**
 * The deployment's secrets as SSM SecureString parameters (standard tier: no monthly fee,
 * unlike a Secrets Manager secret), created by a custom resource whose handler
 * (functions/secure-parameters.ts) generates each value itself: CloudFormation cannot create
 * a SecureString, and no value passes through the template, the event or the logs. The
 * handler's role may put and delete exactly these parameters and nothing else.
 */
import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { SecureParameterSpec } from '../functions/secure-parameters';

export interface SecureParameterProps {
  /** The name's last part, under the construct's own prefix (`/cirrus/<stack>/<id>/`). */
  readonly name: string;
  readonly description: string;
  /** Random bytes in the value (base64url: 4 characters per 3 bytes). */
  readonly bytes: number;
}

export interface SecureParametersProps {
  readonly parameters: Readonly<Record<string, SecureParameterProps>>;
  readonly projectRoot: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export class SecureParameters extends Construct {
  /** The parameters by key, each with its name and ARN. */
  public readonly parameters: Record<string, ssm.IStringParameter>;
  public readonly resource: CustomResource;
  public readonly provider: cr.Provider;
  public readonly handler: NodejsFunction;

  constructor(scope: Construct, id: string, props: SecureParametersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Unique per account and region: the stack's name and the construct's path.
    const prefix = `/cirrus/${stack.stackName}/${scope.node.id.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
    const specs: SecureParameterSpec[] = Object.values(props.parameters).map((p) => ({ Name: `${prefix}/${p.name}`, Description: p.description, Bytes: p.bytes }));
    this.parameters = Object.fromEntries(
      Object.entries(props.parameters).map(([key, p]) => [
        key,
        ssm.StringParameter.fromSecureStringParameterAttributes(this, `${key}Parameter`, { parameterName: `${prefix}/${p.name}` }),
      ]),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Cirrus secure parameters: creates and deletes the deployment secrets',
    });
    logGroup.grantWrite(role);
    // The AWS managed key aws/ssm lets every principal of the account encrypt and decrypt
    // through Parameter Store: no KMS grant.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:DeleteParameter'],
        resources: Object.values(this.parameters).map((p) => p.parameterArn),
      }),
    );
    this.handler = new NodejsFunction(this, 'Handler', {
      entry: path.join(props.projectRoot, 'functions', 'secure-parameters.ts'),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: 'Cirrus: creates the deployment secrets as SecureString parameters',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      bundling: { format: OutputFormat.ESM, target: 'node24', minify: true, mainFields: ['module', 'main'], externalModules: [] },
    });

    const providerRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Cirrus secure parameters provider',
    });
    logGroup.grantWrite(providerRole);
    const handlerFunction = this.handler;
    // The framework invokes the handler by its unqualified ARN only.
    const onEventHandler: lambda.IFunction = Object.create(handlerFunction, {
      grantInvoke: {
        value: (grantee: iam.IGrantable) => iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [handlerFunction.functionArn] }),
      },
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler, frameworkOnEventRole: providerRole, logGroup });

    const retain = props.removalPolicy !== RemovalPolicy.DESTROY;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::CirrusSecureParameters',
      properties: { Parameters: specs, Retain: String(retain) },
      removalPolicy: props.removalPolicy,
    });
  }
}
