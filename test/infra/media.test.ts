import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MEDIA_TYPES } from '../../core/domain/media';
import { functions, type FunctionKey, type FunctionSpec } from '../../core/manifest';
import { resolveCirrusImProps } from '../../lib/cirrus-im-props';
import { HandlerFunction } from '../../lib/handler-function';
import { logicalId, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';

const mediaFunctions = (Object.keys(functions) as FunctionKey[]).filter((key) => functions[key].media);

describe('When CirrusStack is synthesized with default media props', () => {
  let synth: Synthesized;
  let resources: Record<string, any>;
  let bucketId: string;
  let logsId: string;

  beforeAll(() => {
    synth = synthesizeCirrusStack();
    resources = synth.template.toJSON().Resources;
    bucketId = logicalId(synth.stack.im.mediaBucket);
    logsId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::S3::Bucket' && id !== bucketId)!;
  }, synthTimeout);

  /** Every statement granted to a function's role (CDK moves some into managed policies when the inline one grows large). */
  const statementsOf = (key: FunctionKey): any[] => {
    const roleId = logicalId(synth.stack.im.functions[key].role!);
    return ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.values(synth.template.findResources(type, { Properties: { Roles: [{ Ref: roleId }] } })).flatMap((policy) => policy.Properties.PolicyDocument.Statement),
    );
  };
  const s3Statements = (key: FunctionKey) => statementsOf(key).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('s3:')));

  it('should create the media bucket and its access log bucket, both retained', () => {
    synth.template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(resources[bucketId]).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(resources[logsId]).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate' });
  });

  it('should encrypt both buckets, block all public access and disable ACLs', () => {
    for (const id of [bucketId, logsId]) {
      expect(resources[id].Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
      expect(resources[id].Properties.AccessControl).toBeUndefined();
    }
  });

  it('should deny every request without TLS on both buckets', () => {
    for (const id of [bucketId, logsId]) {
      synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('should log server access into the log bucket, delivered under a bucket policy scoped to the media bucket', () => {
    expect(resources[bucketId].Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'media-bucket/' });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    expect(resources[logsId].Properties.LifecycleConfiguration.Rules).toEqual([{ Id: 'ExpireAccessLogs', ExpirationInDays: 365, Status: 'Enabled' }]);
  });

  it('should abort incomplete multipart uploads after a day, keep media without an expiry and expire data exports after 7 days', () => {
    expect(resources[bucketId].Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'AbortIncompleteMultipartUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      { Id: 'ExpireExports', Prefix: 'exports/', ExpirationInDays: 7, Status: 'Enabled' },
    ]);
  });

  it('should allow browser uploads and downloads from any origin', () => {
    expect(resources[bucketId].Properties.CorsConfiguration.CorsRules).toEqual([
      { AllowedOrigins: ['*'], AllowedMethods: ['POST', 'GET', 'HEAD'], AllowedHeaders: ['*'], ExposedHeaders: ['ETag', 'Location'], MaxAge: 3600 },
    ]);
  });

  it('should pass the bucket name and the default limits to the media functions only', () => {
    expect(mediaFunctions).toEqual(['httpMedia']);
    for (const key of Object.keys(functions) as FunctionKey[]) {
      const variables = resources[logicalId(synth.stack.im.functions[key])].Properties.Environment.Variables;
      const spec = functions[key] as FunctionSpec;
      if (spec.exports || spec.userMedia) expect(variables.MEDIA_BUCKET, key).toEqual({ Ref: bucketId });
      if (spec.media) {
        expect(variables).toMatchObject({ MEDIA_BUCKET: { Ref: bucketId }, MEDIA_MAX_BYTES: String(100 * 1024 * 1024) });
        // Compiled into the bundle, not the environment (see the manifest's compiledSettings).
        expect((synth.stack.im.functions[key].node.scope as HandlerFunction).compiledSettings).toMatchObject({ MEDIA_ALLOWED_TYPES: DEFAULT_MEDIA_TYPES.join(',') });
      } else {
        if (!spec.exports && !spec.userMedia) expect(variables.MEDIA_BUCKET, key).toBeUndefined();
        expect(variables.MEDIA_MAX_BYTES, key).toBeUndefined();
      }
    }
  });

  it('should grant the media functions PutObject and GetObject under media/ and a prefix-limited ListBucket, and Put and Get of exports/ to request exports, Put and AbortMultipartUpload of exports/ to build them, and nothing more', () => {
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}/*`]] });
    const list = { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] }, Condition: { StringLike: { 's3:prefix': ['media/*'] } } };
    expect(s3Statements('httpMedia')).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: objects('media') },
      list,
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: objects('exports') },
    ]);
    // The export builder writes exports (in parts; never reads them) and aborts a failed upload, lists the user's media and deletes an erased user's.
    expect(s3Statements('userData')).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: objects('exports') },
      list,
      { Effect: 'Allow', Action: 's3:DeleteObject', Resource: objects('media') },
    ]);
  });

  it('should grant no other function anything on S3', () => {
    for (const key of Object.keys(functions) as FunctionKey[]) {
      const spec = functions[key] as FunctionSpec;
      if (!spec.media && !spec.exports && !spec.userMedia) expect(s3Statements(key), key).toEqual([]);
    }
  });
});

describe('When CirrusStack is synthesized with media props and removalPolicy DESTROY', () => {
  let synth: Synthesized;
  let resources: Record<string, any>;
  let bucketId: string;

  beforeAll(() => {
    synth = synthesizeCirrusStack({
      removalPolicy: RemovalPolicy.DESTROY,
      media: { maxUploadBytes: 5_000_000, allowedContentTypes: ['image/*', 'Application/PDF'], expirationDays: 90, corsAllowedOrigins: ['https://app.example.com'] },
    });
    resources = synth.template.toJSON().Resources;
    bucketId = logicalId(synth.stack.im.mediaBucket);
  }, synthTimeout);

  it('should expire media objects after the given days', () => {
    expect(resources[bucketId].Properties.LifecycleConfiguration.Rules).toContainEqual({ Id: 'ExpireMedia', Prefix: 'media/', ExpirationInDays: 90, Status: 'Enabled' });
  });

  it('should allow CORS only from the given origins', () => {
    expect(resources[bucketId].Properties.CorsConfiguration.CorsRules[0].AllowedOrigins).toEqual(['https://app.example.com']);
  });

  it('should pass the limits to the media function, types lower-cased', () => {
    const variables = resources[logicalId(synth.stack.im.functions.httpMedia)].Properties.Environment.Variables;
    expect(variables).toMatchObject({ MEDIA_MAX_BYTES: '5000000' });
    expect((synth.stack.im.functions.httpMedia.node.scope as HandlerFunction).compiledSettings).toMatchObject({ MEDIA_ALLOWED_TYPES: 'image/*,application/pdf' });
  });

  it('should delete and empty both buckets with the stack', () => {
    expect(resources[bucketId]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    synth.template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });
});

describe('When media props are invalid', () => {
  it.each([
    [{ maxUploadBytes: 0 }, /media.maxUploadBytes must be a whole number of bytes between 1 and 5 GiB/],
    [{ maxUploadBytes: 6 * 1024 ** 3 }, /media.maxUploadBytes/],
    [{ allowedContentTypes: [] }, /media.allowedContentTypes must list at least one type/],
    [{ allowedContentTypes: ['images'] }, /media.allowedContentTypes: "images" is not a media type/],
    [{ expirationDays: 0 }, /media.expirationDays must be a whole number of days/],
    [{ corsAllowedOrigins: ['app.example.com'] }, /media.corsAllowedOrigins must list/],
    [{ corsAllowedOrigins: [] }, /media.corsAllowedOrigins must list/],
  ])('should reject %j with a sentence naming the property', (media, message) => {
    expect(() => resolveCirrusImProps({ media })).toThrow(message);
  });
});
