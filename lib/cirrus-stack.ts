/**
 * The deployable unit: one stack holding one {@link CirrusIm}.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CirrusIm, type CirrusImProps } from './cirrus-im';

/** Stack properties plus every {@link CirrusImProps} field, passed through unchanged. */
export interface CirrusStackProps extends StackProps, CirrusImProps {}

/**
 * @example
 * new CirrusStack(app, 'Cirrus', { messageRetentionDays: 30 });
 */
export class CirrusStack extends Stack {
  public readonly im: CirrusIm;

  constructor(scope: Construct, id: string, props: CirrusStackProps = {}) {
    super(scope, id, {
      description: 'Cirrus: serverless instant messaging (WebSocket and HTTP APIs, SQS, DynamoDB, Aurora history)',
      ...props,
    });
    this.im = new CirrusIm(this, 'Cirrus', props);
    // The stack holds one CirrusIm, so its outputs can take the plain names that the
    // docs and scripts use: WebSocketUrl, HttpApiUrl, AdminSecretArn.
    this.im.outputs.webSocketUrl.overrideLogicalId('WebSocketUrl');
    this.im.outputs.httpApiUrl.overrideLogicalId('HttpApiUrl');
    this.im.outputs.adminSecretArn.overrideLogicalId('AdminSecretArn');
  }
}
