/**
 * The offline push settings and credentials as a function reads them: PUSH_SETTINGS parsed and
 * checked, the SecureString parameters read through the real SSM client from the local Parameter
 * Store under the function's policy (the local runtime's IAM), cached per container, read again
 * after a provider refused them, and checked with errors that name the parameter, never the secret.
 */
import { createECDH, generateKeyPairSync } from 'node:crypto';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsRequests } from '../../core/aws/accounting';
import { CirrusError } from '../../core/errors';
import type { FunctionKey } from '../../core/manifest';
import { invalidatePushCredentials, loadPushCredentials, pushSettings, PushCredentialsError } from '../../core/offline-push/credentials';
import type { PushProvider, PushSettings } from '../../core/offline-push/types';
import { LocalSsm } from '../../local/aws/ssm';
import { enforcePolicies, type PolicyEnforcement } from '../../local/iam';
import { runAsFunction } from '../../local/lambda';
import { clientConfig, mount, type Mounted } from './mount';

// The push function reads the credentials here (whichever function has `pushCredentials` in a deployment).
vi.mock('../../core/manifest', async (importOriginal) => {
  const manifest = await importOriginal<typeof import('../../core/manifest')>();
  return { ...manifest, functions: { ...manifest.functions, push: { ...manifest.functions.push, pushCredentials: true } } };
});

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const pem = (type: 'ec' | 'rsa') =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const apnsKey = pem('ec');
const fcmKey = pem('rsa');
const serviceAccount = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'service_account', project_id: 'example-chat', private_key_id: 'abc', private_key: fcmKey, client_email: 'cirrus@example-chat.iam.gserviceaccount.com', ...overrides });
const vapid = createECDH('prime256v1');
vapid.generateKeys();
const otherVapid = createECDH('prime256v1');
otherVapid.generateKeys();

const settings = {
  apns: { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleIds: ['com.example.chat'], keyParameter: '/chat/push/apns-key' },
  fcm: { projectId: 'example-chat', serviceAccountParameter: '/chat/push/fcm-service-account' },
  webpush: { publicKey: vapid.getPublicKey().toString('base64url'), subject: 'mailto:ops@example.com', privateKeyParameter: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/chat/push/vapid-private-key` },
} satisfies PushSettings;

/** The settings with each provider's parameter renamed (`/chat/<case>/<provider>`), for a case of its own. */
function renamed(name: string): PushSettings {
  return {
    apns: { ...settings.apns, keyParameter: `/chat/${name}/apns` },
    fcm: { ...settings.fcm, serviceAccountParameter: `/chat/${name}/fcm` },
    webpush: { ...settings.webpush, privateKeyParameter: `/chat/${name}/webpush` },
  };
}

const getParameters = (before: ReturnType<typeof awsRequests.snapshot>) => awsRequests.since(before).SSM?.GetParameter ?? 0;

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('Offline push credentials from the local Parameter Store', () => {
  let ssm: LocalSsm;
  let server: Mounted;
  let admin: SSMClient;
  let enforcement: PolicyEnforcement;
  const saved = { ...process.env };

  const put = (name: string, value: string) => admin.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }));
  const as = <T>(key: FunctionKey, fn: () => Promise<T>) => runAsFunction(key, fn);
  const useSettings = (value: PushSettings) => {
    process.env.PUSH_SETTINGS = JSON.stringify(value);
  };

  beforeAll(async () => {
    ssm = new LocalSsm({ credentials: { local: 'local' } });
    server = await mount([ssm]);
    admin = new SSMClient(clientConfig(server.url));
    // What the functions' SSM client reads, as the local runtime sets it.
    Object.assign(process.env, { AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_SSM: server.url });
    enforcement = enforcePolicies({
      webhooks: false,
      offlinePush: settings,
      arns: {
        region: REGION,
        account: ACCOUNT,
        resolve: (resource) => (resource.kind === 'pushCredentials' ? ssm.arnOf({ apns: settings.apns.keyParameter, fcm: settings.fcm.serviceAccountParameter, webpush: '/chat/push/vapid-private-key' }[resource.provider]) : `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x:*`),
        secretArn: (id) => id,
        apiId: 'api',
        stage: 'live',
      },
    });
    await put('/chat/push/apns-key', apnsKey);
    await put('/chat/push/fcm-service-account', serviceAccount());
    await put('/chat/push/vapid-private-key', vapid.getPrivateKey().toString('base64url'));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    enforcement.stop();
    admin.destroy();
    await server.close();
    process.env = saved;
  });

  describe('pushSettings', () => {
    it('should be undefined without PUSH_SETTINGS, and parse and check it once per value', () => {
      delete process.env.PUSH_SETTINGS;
      expect(pushSettings()).toBeUndefined();
      useSettings(settings);
      const first = pushSettings();
      expect(first).toEqual(settings);
      expect(pushSettings()).toBe(first);
      useSettings({ apns: settings.apns });
      expect(pushSettings()).toEqual({ apns: settings.apns });
    });

    it('should refuse a malformed value with an INTERNAL error naming what is wrong', () => {
      process.env.PUSH_SETTINGS = '{"apns":';
      expect(() => pushSettings()).toThrow(new CirrusError('INTERNAL', 'Setting PUSH_SETTINGS is not JSON.'));
      process.env.PUSH_SETTINGS = JSON.stringify({ apns: { ...settings.apns, keyId: 'short' } });
      expect(() => pushSettings()).toThrow(/^Offline push settings: PUSH_SETTINGS.apns.keyId must be the 10-character Key ID/);
      expect((() => { try { pushSettings(); } catch (err) { return (err as CirrusError).reason; } })()).toBe('INTERNAL');
    });
  });

  describe('loadPushCredentials', () => {
    it('should read every provider\'s parameter once per container, by name or ARN, and shape the secrets for the clients', async () => {
      useSettings(settings);
      const before = awsRequests.snapshot();
      const credentials = await as('push', () => loadPushCredentials());
      expect(getParameters(before)).toBe(3);
      expect(credentials).toEqual({
        apns: { ...settings.apns, privateKey: apnsKey.trim() },
        fcm: { ...settings.fcm, clientEmail: 'cirrus@example-chat.iam.gserviceaccount.com', privateKey: fcmKey },
        webpush: { ...settings.webpush, privateKey: vapid.getPrivateKey().toString('base64url') },
      });
      // Warm: nothing fetched again, the same objects.
      const again = await as('push', () => loadPushCredentials());
      expect(getParameters(before)).toBe(3);
      expect(again.apns).toBe(credentials.apns);
      expect(again.fcm).toBe(credentials.fcm);
      // Only the providers asked for.
      expect(Object.keys(await as('push', () => loadPushCredentials(['fcm'])))).toEqual(['fcm']);
    });

    it('should read a refused provider\'s parameter again once its value is 10 seconds old, and only that one', async () => {
      useSettings(settings);
      await as('push', () => loadPushCredentials());
      const replacement = pem('ec');
      await put('/chat/push/apns-key', replacement);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });

      // A refusal right after the fetch: the value is recent, kept.
      const before = awsRequests.snapshot();
      runAsFunction('push', () => invalidatePushCredentials('apns'));
      expect((await as('push', () => loadPushCredentials())).apns?.privateKey).toBe(apnsKey.trim());
      expect(getParameters(before)).toBe(0);

      // Without a refusal a value is trusted 5 minutes; a refusal reported by another function leaves this one's cache alone.
      vi.setSystemTime(Date.now() + 11_000);
      runAsFunction('http', () => invalidatePushCredentials('apns'));
      expect((await as('push', () => loadPushCredentials())).apns?.privateKey).toBe(apnsKey.trim());
      expect(getParameters(before)).toBe(0);

      runAsFunction('push', () => invalidatePushCredentials('apns'));
      const refreshed = await as('push', () => loadPushCredentials());
      expect(refreshed.apns?.privateKey).toBe(replacement.trim());
      expect(getParameters(before)).toBe(1);
      await put('/chat/push/apns-key', apnsKey);
    });

    it('should keep each function\'s cache its own, and refuse a function without pushCredentials as its role would', async () => {
      useSettings(settings);
      const err = await failure(as('http', () => loadPushCredentials(['apns'])));
      expect(err).toBeInstanceOf(PushCredentialsError);
      expect((err as PushCredentialsError).provider).toBe('apns');
      expect(err.message).toMatch(
        new RegExp(`^This function may not read the APNs key \\(\\.p8\\) parameter /chat/push/apns-key: User: arn:aws:sts::${ACCOUNT}:assumed-role/Cirrus-HttpApiRole/Cirrus-HttpApi is not authorized to perform: ssm:GetParameter`),
      );
    });

    it('should name a missing parameter and how to put it, and not ask Parameter Store again for 10 seconds', async () => {
      const missing = renamed('missing');
      useSettings(missing);
      await put('/chat/missing/fcm', serviceAccount());
      const policy = enforcePolicies({
        webhooks: false,
        offlinePush: missing,
        arns: { region: REGION, account: ACCOUNT, resolve: (r) => (r.kind === 'pushCredentials' ? ssm.arnOf(`/chat/missing/${r.provider}`) : '*'), secretArn: (id) => id, apiId: 'api', stage: 'live' },
      });
      try {
        vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
        const before = awsRequests.snapshot();
        const err = await failure(as('push', () => loadPushCredentials(['apns'])));
        expect(err.message).toBe('There is no APNs key (.p8) parameter /chat/missing/apns: put it with `aws ssm put-parameter --name /chat/missing/apns --type SecureString` (docs/deploy.md, "Offline push").');
        expect(await failure(as('push', () => loadPushCredentials(['apns'])))).toBe(err);
        expect(getParameters(before)).toBe(1);
        // The other providers still work.
        expect((await as('push', () => loadPushCredentials(['fcm']))).fcm?.clientEmail).toBe('cirrus@example-chat.iam.gserviceaccount.com');
        // Put, and 10 seconds later, read.
        await put('/chat/missing/apns', apnsKey);
        vi.setSystemTime(Date.now() + 10_001);
        expect((await as('push', () => loadPushCredentials(['apns']))).apns?.privateKey).toBe(apnsKey.trim());
      } finally {
        policy.stop();
        enforcement = enforcePolicies({ webhooks: false, offlinePush: settings, arns: { region: REGION, account: ACCOUNT, resolve: (r) => (r.kind === 'pushCredentials' ? ssm.arnOf({ apns: settings.apns.keyParameter, fcm: settings.fcm.serviceAccountParameter, webpush: '/chat/push/vapid-private-key' }[r.provider]) : '*'), secretArn: (id) => id, apiId: 'api', stage: 'live' } });
      }
    });

    const invalid: [string, PushProvider, string, RegExp][] = [
      ['an APNs key that is not PEM', 'apns', 'MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg', /^The APNs key \(\.p8\) parameter \/chat\/bad-0\/apns does not hold a \.p8 key: put the whole text of the AuthKey_<keyId>\.p8 file/],
      ['an RSA key as the APNs key', 'apns', fcmKey, /^The APNs key \(\.p8\) parameter \/chat\/bad-1\/apns holds a key of type RSA, not the P-256 \(ES256\) key of an APNs \.p8 file\.$/],
      ['a damaged APNs key', 'apns', `-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n`, /^The APNs key \(\.p8\) parameter \/chat\/bad-2\/apns holds a PEM block that is not a readable private key/],
      ['a service account file that is not JSON', 'fcm', 'client_email=x', /^The FCM service account key \(JSON\) parameter \/chat\/bad-3\/fcm is not JSON: put the service account's key file unchanged/],
      ['a service account file without client_email', 'fcm', serviceAccount({ client_email: undefined }), /^The FCM service account key \(JSON\) parameter \/chat\/bad-4\/fcm has no client_email/],
      ['a service account file without private_key', 'fcm', serviceAccount({ private_key: '' }), /^The FCM service account key \(JSON\) parameter \/chat\/bad-5\/fcm has no private_key/],
      ['an OAuth client file instead of a service account', 'fcm', serviceAccount({ type: 'authorized_user' }), /^The FCM service account key \(JSON\) parameter \/chat\/bad-6\/fcm holds a key file of type "authorized_user", not a service account's/],
      ['a service account with an EC key', 'fcm', serviceAccount({ private_key: apnsKey }), /^The FCM service account key \(JSON\) parameter \/chat\/bad-7\/fcm has a private_key of type EC, not the RSA key/],
      ['a VAPID private key of another pair', 'webpush', otherVapid.getPrivateKey().toString('base64url'), /^The VAPID private key parameter \/chat\/bad-8\/webpush holds the private key of another key pair: its public key is not offlinePush.webpush.publicKey/],
      ['the VAPID public key as the private key', 'webpush', vapid.getPublicKey().toString('base64url'), /^The VAPID private key parameter \/chat\/bad-9\/webpush does not hold a VAPID private key: put the privateKey printed by `npx web-push generate-vapid-keys`/],
    ];
    it.each(invalid.map(([name, provider, value, message], index) => [name, provider, value, message, index] as const))('should refuse %s with a sentence that names the parameter, never the secret', async (_, provider, value, message, index) => {
      const bad = renamed(`bad-${index}`);
      useSettings(bad);
      await put(`/chat/bad-${index}/${provider}`, value);
      // Read with the administrator's credentials (outside any function: not checked).
      const err = await failure(loadPushCredentials([provider]));
      expect(err).toBeInstanceOf(PushCredentialsError);
      expect(err.message).toMatch(message);
      for (const secret of [value, fcmKey, apnsKey].filter((s) => s.length > 20)) expect(err.message).not.toContain(secret.slice(30, 60));
    });
  });
});
