/**
 * The deployable unit: one stack holding one {@link CirrusIm}.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CirrusIm, type CirrusImProps } from './cirrus-im';
import { CirrusDemoSite, type DemoSiteOptions } from './demo-site';

/** Stack properties plus every {@link CirrusImProps} field, passed through unchanged. */
export interface CirrusStackProps extends StackProps, CirrusImProps {
  /**
   * Deploys the web chat demo (`web/dist`) as a static site on CloudFront that signs users in
   * through the app backend's `tokenUrl`. Off by default.
   */
  readonly demoSite?: DemoSiteOptions;
}

/**
 * @example
 * new CirrusStack(app, 'Cirrus', { messageRetentionDays: 30 });
 */
export class CirrusStack extends Stack {
  public readonly im: CirrusIm;
  /** The web chat demo site, with the `demoSite` prop only. */
  public readonly demoSite?: CirrusDemoSite;

  constructor(scope: Construct, id: string, props: CirrusStackProps = {}) {
    super(scope, id, {
      description: 'Cirrus: serverless instant messaging (WebSocket and HTTP APIs, SQS, DynamoDB, Aurora history)',
      ...props,
    });
    this.im = new CirrusIm(this, 'Cirrus', props);
    // The stack holds one CirrusIm, so its outputs can take the plain names that the
    // docs and scripts use: WebSocketUrl, HttpApiUrl, AdminSecretParameter (and WebhookSecretParameter).
    this.im.outputs.webSocketUrl.overrideLogicalId('WebSocketUrl');
    this.im.outputs.httpApiUrl.overrideLogicalId('HttpApiUrl');
    this.im.outputs.adminSecretParameter.overrideLogicalId('AdminSecretParameter');
    this.im.outputs.webhookSecretParameter?.overrideLogicalId('WebhookSecretParameter');
    if (props.demoSite) {
      this.demoSite = new CirrusDemoSite(this, 'DemoSite', {
        ...props.demoSite,
        webSocketUrl: this.im.webSocketUrl,
        httpApiUrl: this.im.httpApiUrl,
        removalPolicy: props.removalPolicy,
        logRetention: props.logRetention,
      });
      this.demoSite.output.overrideLogicalId('DemoSiteUrl');
    }
  }
}
