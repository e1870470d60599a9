import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CirrusStack } from '../../lib/cirrus-stack';
import { runInNewContext } from 'node:vm';
import { ADMIN_INDEX_FUNCTION, DEMO_CONTENT_SECURITY_POLICY, validateTokenUrl } from '../../lib/demo-site';
import { awsSolutionsFindings, logicalId, synthesizeCirrusStack, synthTimeout, testApp, type Synthesized } from './support';

const TOKEN_URL = 'https://app.example.com/cirrus/token';

/** A minimal stand-in for `web/dist`, so the test need not run Vite. */
function fixtureDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cirrus-demo-dist-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Cirrus chat</title><main id="app"></main>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'index.js'), 'console.log("demo")');
  mkdirSync(join(dir, 'admin'));
  writeFileSync(join(dir, 'admin', 'index.html'), '<!doctype html><title>Cirrus admin console</title><div id="console"></div>');
  return dir;
}

describe('When CirrusStack has the demoSite prop', () => {
  let dist: string;
  let synthesized: Synthesized;
  let template: Template;
  let findings: string[];

  beforeAll(() => {
    dist = fixtureDist();
    synthesized = synthesizeCirrusStack({ demoSite: { tokenUrl: TOKEN_URL, distPath: dist } });
    template = synthesized.template;
    findings = awsSolutionsFindings(synthesized.app);
  }, synthTimeout);

  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('should keep the site in a private, encrypted, TLS-only bucket with access logs', () => {
    const site = synthesized.stack.demoSite!;
    const bucket = template.toJSON().Resources[logicalId(site.bucket)];
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logicalId(site.accessLogs) });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(site.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
  });

  it('should serve it through CloudFront with Origin Access Control, HTTPS only and index.html at the root', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: Match.anyValue() }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
        Logging: Match.objectLike({ Prefix: 'distribution/' }),
      }),
    });
  });

  it('should serve the admin console at /admin/ through a viewer-request function on its own behavior', () => {
    const site = synthesized.stack.demoSite!;
    const functionId = logicalId(site.adminIndexFunction);
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
      FunctionCode: ADMIN_INDEX_FUNCTION,
      AutoPublish: true,
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/admin*',
            ViewerProtocolPolicy: 'redirect-to-https',
            ResponseHeadersPolicyId: Match.anyValue(),
            FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } }],
          }),
        ],
      }),
    });
  });

  it('should map /admin/ to admin/index.html and redirect /admin (the function run as CloudFront runs it)', () => {
    const handler = runInNewContext(`${ADMIN_INDEX_FUNCTION}; handler`) as (event: { request: { uri: string } }) => any;
    expect(handler({ request: { uri: '/admin/' } })).toEqual({ uri: '/admin/index.html' });
    expect(handler({ request: { uri: '/admin/index.html' } })).toEqual({ uri: '/admin/index.html' });
    expect(handler({ request: { uri: '/admin' } })).toMatchObject({ statusCode: 301, headers: { location: { value: '/admin/' } } });
    expect(handler({ request: { uri: '/administrator.png' } })).toEqual({ uri: '/administrator.png' });
  });

  it('should name its CloudFront resources (one namespace per account, every region) after the stack and its stack id', () => {
    const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
    const named = (prefix: string) => ({ 'Fn::Join': ['', [`Cirrus-${prefix}-`, stackUuid]] });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', { ResponseHeadersPolicyConfig: Match.objectLike({ Name: named('demo-headers') }) });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ Name: named('demo-oac') }) });
    template.hasResourceProperties('AWS::CloudFront::Function', { Name: named('demo-admin') });
  });

  it('should keep the site bucket, but empty and delete it when its creation rolls back', () => {
    const site = synthesized.stack.demoSite!;
    for (const bucket of [site.bucket, site.accessLogs]) {
      expect(template.toJSON().Resources[logicalId(bucket)]).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    }
    // The deployment's delete (before its bucket's) removes the built files: a filled bucket cannot be deleted.
    template.hasResourceProperties('Custom::CDKBucketDeployment', { RetainOnDelete: false });
  });

  it("should let the pages talk to the APIs on other origins and nothing load from them", () => {
    expect(DEMO_CONTENT_SECURITY_POLICY).toContain("connect-src 'self' https: wss:");
    expect(DEMO_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(DEMO_CONTENT_SECURITY_POLICY).toContain("style-src 'self'");
  });

  it('should send security headers', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ Override: true }),
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentSecurityPolicy: Match.objectLike({ ContentSecurityPolicy: Match.stringLikeRegexp("frame-ancestors 'none'") }),
        }),
      }),
    });
  });

  it('should deploy the build and a config.json with the deployment URLs and the token URL', () => {
    const site = synthesized.stack.demoSite!;
    const stack = synthesized.stack;
    expect(stack.resolve(site.config)).toEqual({
      wsUrl: stack.resolve(stack.im.webSocketUrl),
      apiUrl: stack.resolve(stack.im.httpApiUrl),
      tokenUrl: TOKEN_URL,
    });
    const deployments = template.findResources('Custom::CDKBucketDeployment');
    expect(Object.keys(deployments)).toHaveLength(1);
    const props = Object.values(deployments)[0]!.Properties;
    // The console reads apiUrl from the same config.json.
    expect(Object.keys(stack.resolve(site.config))).toContain('apiUrl');
    // Two sources: the build and the generated config.json, whose tokens the deployment fills in.
    expect(props.SourceBucketNames).toHaveLength(2);
    expect(props.DestinationBucketName).toEqual({ Ref: logicalId(site.bucket) });
    expect(props.DistributionPaths).toEqual(['/*']);
    const markers = JSON.stringify(props.SourceMarkers);
    expect(markers).toContain(logicalId(stack.im.webSocketApi));
    expect(markers).toContain(logicalId(stack.im.httpApi));
    template.hasOutput('DemoSiteUrl', {});
  });

  it('should report no unacknowledged cdk-nag finding', () => {
    expect(findings, findings.join('\n')).toEqual([]);
  });
});

describe('When CirrusStack has no demoSite prop', () => {
  it('should create no demo site resources', () => {
    const { template, stack } = synthesizeCirrusStack();
    expect(stack.demoSite).toBeUndefined();
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    expect(Object.keys(template.findOutputs('DemoSiteUrl'))).toEqual([]);
  }, synthTimeout);
});

describe('When CirrusStack has the demoSite prop and removalPolicy DESTROY', () => {
  it('should delete and empty the demo buckets with the stack', () => {
    const dist = fixtureDist();
    try {
      const { template, stack } = synthesizeCirrusStack({ removalPolicy: RemovalPolicy.DESTROY, demoSite: { tokenUrl: TOKEN_URL, distPath: dist } });
      const site = stack.demoSite!;
      for (const bucket of [site.bucket, site.accessLogs]) {
        expect(template.toJSON().Resources[logicalId(bucket)].DeletionPolicy).toBe('Delete');
        template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: logicalId(bucket) } });
      }
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  }, synthTimeout);
});

describe('When the demo site is misconfigured', () => {
  it('should tell to build the demo when the dist folder has no index.html', () => {
    const empty = mkdtempSync(join(tmpdir(), 'cirrus-demo-empty-'));
    try {
      expect(() => new CirrusStack(testApp(), 'Cirrus', { demoSite: { tokenUrl: TOKEN_URL, distPath: empty } })).toThrow(/npm run web:build/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('should refuse a token URL that is not absolute HTTPS', () => {
    expect(() => validateTokenUrl('/cirrus/token')).toThrow(/absolute URL/);
    expect(() => validateTokenUrl('http://app.example.com/token')).toThrow(/https/);
    expect(validateTokenUrl('http://localhost:3000/token')).toBe('http://localhost:3000/token');
    expect(validateTokenUrl(TOKEN_URL)).toBe(TOKEN_URL);
  });
});
