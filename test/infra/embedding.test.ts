import { beforeAll, describe, expect, it } from 'vitest';
import { type App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { functions, queues, tables } from '../../core/manifest';
import { CirrusIm } from '../../lib/cirrus-im';
import { awsSolutionsFindings, synthTimeout, testApp } from './support';

describe('When CirrusIm is embedded in a plain stack of another app', () => {
  let app: App;
  let im: CirrusIm;
  let template: Template;

  beforeAll(() => {
    app = testApp();
    const stack = new Stack(app, 'Host');
    // The host's own resources live next to Cirrus.
    new sqs.Queue(stack, 'HostQueue', { enforceSSL: true });
    im = new CirrusIm(stack, 'Chat');
    template = Template.fromStack(stack);
  }, synthTimeout);

  it('should create every manifest resource inside the host stack', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length);
    // Each queue and its dead-letter queue, the shared DeadLetters, and the one the CDK adds besides.
    template.resourceCountIs('AWS::SQS::Queue', Object.keys(queues).length * 2 + 2);
    expect(Object.keys(im.functions).sort()).toEqual(Object.keys(functions).sort());
  });

  it('should name its outputs after the construct id', () => {
    for (const name of ['ChatWebSocketUrl', 'ChatHttpApiUrl', 'ChatAdminSecretArn']) {
      expect(Object.keys(template.findOutputs(name))).toEqual([name]);
    }
  });

  it("should keep its nag acknowledgements to its own resources, so the host's findings still show", () => {
    const findings = awsSolutionsFindings(app);
    expect(findings.every((finding) => finding.includes(' at Host/HostQueue/')), findings.join('\n')).toBe(true);
    expect(findings.some((finding) => finding.includes('AwsSolutions-SQS3'))).toBe(true);
  });
});
