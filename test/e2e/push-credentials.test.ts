/**
 * Offline push credentials in the local runtime: `settings.offlinePush` (the deployment's
 * `offlinePush` prop) reaches the functions as PUSH_SETTINGS, and the runtime holds each function
 * to its role: one with `pushCredentials` reads exactly the parameters the settings name from the
 * local Parameter Store, one without is refused as AWS would refuse it.
 */
import { createECDH, generateKeyPairSync } from 'node:crypto';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretValue } from '../../core/auth/secrets';
import { ssm } from '../../core/aws/ssm';
import { functions } from '../../core/manifest';
import { loadPushCredentials, pushSettings } from '../../core/offline-push/credentials';
import type { PushSettings } from '../../core/offline-push/types';
import { runAsFunction } from '../../local/lambda';
import type { LocalCirrus } from '../../local/runtime';
import { startCirrus } from '../support/cirrus';

const vapid = createECDH('prime256v1');
vapid.generateKeys();
const apnsKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const offlinePush: PushSettings = {
  apns: { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleIds: ['com.example.chat'], keyParameter: '/chat/push/apns-key' },
  webpush: { publicKey: vapid.getPublicKey().toString('base64url'), subject: 'mailto:ops@example.com', privateKeyParameter: 'arn:aws:ssm:us-east-1:000000000000:parameter/chat/push/vapid-private-key' },
};

// One runtime per file, started with the push function given `pushCredentials` (whichever function has it in a deployment).
const push = functions.push as { pushCredentials?: boolean };
let cirrus: LocalCirrus;
beforeAll(async () => {
  push.pushCredentials = true;
  cirrus = await startCirrus({ settings: { offlinePush } });
  const put = (Name: string, Value: string) => ssm().send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true }));
  await put('/chat/push/apns-key', apnsKey);
  await put('/chat/push/vapid-private-key', vapid.getPrivateKey().toString('base64url'));
  await put('/chat/push/other', 'not granted');
});
afterAll(async () => {
  delete push.pushCredentials;
  await cirrus?.stop();
});

describe('When the local runtime has offlinePush', () => {
  it('should give the functions PUSH_SETTINGS', () => {
    expect(JSON.parse(process.env.PUSH_SETTINGS!)).toEqual(offlinePush);
    expect(pushSettings()).toEqual(offlinePush);
  });

  it('should let a function with pushCredentials read exactly the named parameters', async () => {
    const credentials = await runAsFunction('push', () => loadPushCredentials());
    expect(credentials.apns?.privateKey).toBe(apnsKey.trim());
    expect(credentials.webpush?.privateKey).toBe(vapid.getPrivateKey().toString('base64url'));
    await expect(runAsFunction('push', () => secretValue('/chat/push/other'))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/chat/push/other'),
    });
  });

  it('should refuse a function without pushCredentials, as its role would', async () => {
    await expect(runAsFunction('http', () => loadPushCredentials(['apns']))).rejects.toMatchObject({
      name: 'PushCredentialsError',
      provider: 'apns',
      message: expect.stringMatching(/^This function may not read the APNs key \(\.p8\) parameter \/chat\/push\/apns-key: User: arn:aws:sts::000000000000:assumed-role\/Cirrus-HttpApiRole\/Cirrus-HttpApi is not authorized to perform: ssm:GetParameter/),
    });
  });
});
