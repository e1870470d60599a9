/**
 * The offline push settings (`PUSH_SETTINGS`) and the providers' credentials: the APNs .p8 key,
 * the FCM service account's JSON key file and the VAPID private key, each read from the SSM
 * SecureString parameter the settings name, through the secrets' cache (core/auth/secrets.ts):
 * a warm function sends no GetParameter for them, a value put with `--overwrite` reaches it within
 * 5 minutes, and within 10 seconds once a provider has refused the credentials it holds
 * ({@link invalidatePushCredentials}). Every value is checked when read, with an error that says
 * which parameter holds what and never shows the secret.
 */
import { createECDH, createPrivateKey } from 'node:crypto';
import { containerName } from '../aws/container';
import { REFRESH_INTERVAL_MS, recentSecretValue, secretValue } from '../auth/secrets';
import { CirrusError } from '../errors';
import { configuredProviders, secretParameterOf, validatePushSettings } from './settings';
import type { PushCredentials, PushProvider, PushSettings } from './types';

let parsedSettings: { readonly raw: string; readonly settings: PushSettings } | undefined;

/**
 * The deployment's offline push settings, or undefined when offline push is off (no
 * `PUSH_SETTINGS`). Parsed and checked once per value; a malformed value is an INTERNAL error
 * naming what is wrong.
 */
export function pushSettings(): PushSettings | undefined {
  // Spelled out: in a deployment the bundler replaces `process.env.PUSH_SETTINGS` with the settings.
  const raw = process.env.PUSH_SETTINGS;
  if (raw === undefined || raw === '') return undefined;
  if (parsedSettings?.raw === raw) return parsedSettings.settings;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new CirrusError('INTERNAL', 'Setting PUSH_SETTINGS is not JSON.');
  }
  let settings: PushSettings;
  try {
    settings = validatePushSettings(json, 'PUSH_SETTINGS');
  } catch (err) {
    throw new CirrusError('INTERNAL', `Offline push settings: ${(err as Error).message}`);
  }
  parsedSettings = { raw, settings };
  return settings;
}

/** A provider's credentials could not be read or are not what the provider needs; the message says which parameter and why. */
export class PushCredentialsError extends Error {
  constructor(
    readonly provider: PushProvider,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PushCredentialsError';
  }
}

/** What each parameter holds, as the messages name it. */
const SECRET_NAMES: Record<PushProvider, string> = {
  apns: 'APNs key (.p8)',
  fcm: 'FCM service account key (JSON)',
  webpush: 'VAPID private key',
};

type ProviderCredentials = NonNullable<PushCredentials[PushProvider]>;

interface Parsed {
  /** The provider's settings and the secret's value it was made from. */
  readonly source: string;
  readonly credentials: ProviderCredentials;
}

/** Per container, provider and parameter (locally every function shares the process, each with its own grants). */
const parsed = new Map<string, Parsed>();
/** The last failure to read or check, kept {@link REFRESH_INTERVAL_MS} so a broken parameter is not fetched for every notification. */
const failures = new Map<string, { readonly error: PushCredentialsError; readonly at: number }>();
/** Providers (per container) whose credentials were refused: the next load fetches a value at most 10 seconds old. */
const stale = new Set<string>();
const keyOf = (provider: PushProvider) => `${containerName()}\n${provider}`;

/**
 * The credentials of the given providers (default: every configured one), each read from its
 * parameter and checked. Throws a {@link PushCredentialsError} for the first provider whose
 * parameter cannot be read or holds something else; load one provider at a time to keep the
 * others working when one is broken. Offline push off: a CirrusError (INTERNAL).
 */
export async function loadPushCredentials(providers?: readonly PushProvider[]): Promise<PushCredentials> {
  const settings = pushSettings();
  if (!settings) throw new CirrusError('INTERNAL', 'Offline push is not configured (no PUSH_SETTINGS).');
  const wanted = providers ?? configuredProviders(settings);
  const loaded = await Promise.all(wanted.map(async (provider) => [provider, await loadProvider(settings, provider)] as const));
  return Object.fromEntries(loaded) as PushCredentials;
}

/**
 * Tells the cache that a provider refused the credentials (APNs 403 InvalidProviderToken, FCM
 * 401, a push service's 401/403 for VAPID): the next load reads the parameter again if its value
 * is more than 10 seconds old. Without a provider, all of them.
 */
export function invalidatePushCredentials(provider?: PushProvider): void {
  for (const p of provider ? [provider] : configuredProviders(pushSettings())) stale.add(keyOf(p));
}

async function loadProvider(settings: PushSettings, provider: PushProvider): Promise<ProviderCredentials> {
  const section = settings[provider];
  if (!section) throw new PushCredentialsError(provider, `Offline push through ${provider} is not configured (offlinePush.${provider}).`);
  const parameter = secretParameterOf(settings, provider);
  const key = `${keyOf(provider)}\n${parameter}`;
  const failed = failures.get(key);
  if (failed && Date.now() - failed.at < REFRESH_INTERVAL_MS) throw failed.error;
  // After a refusal or a failure, a value at most 10 seconds old: the operator may just have fixed it.
  const refresh = stale.delete(keyOf(provider)) || failed !== undefined;
  try {
    let value: string;
    try {
      value = await (refresh ? recentSecretValue(parameter) : secretValue(parameter));
    } catch (err) {
      throw new PushCredentialsError(provider, readFailure(provider, parameter, err), { cause: err });
    }
    const source = `${JSON.stringify(section)}\n${value}`;
    const cached = parsed.get(key);
    if (cached?.source === source) {
      failures.delete(key);
      return cached.credentials;
    }
    const credentials = parseCredentials(settings, provider, parameter, value);
    parsed.set(key, { source, credentials });
    failures.delete(key);
    return credentials;
  } catch (err) {
    if (err instanceof PushCredentialsError) failures.set(key, { error: err, at: Date.now() });
    throw err;
  }
}

function readFailure(provider: PushProvider, parameter: string, err: unknown): string {
  const name = (err as Error)?.name;
  const what = `the ${SECRET_NAMES[provider]} parameter ${parameter}`;
  if (name === 'ParameterNotFound') {
    return `There is no ${SECRET_NAMES[provider]} parameter ${parameter}: put it with \`aws ssm put-parameter --name ${parameter} --type SecureString\` (docs/deploy.md, "Offline push").`;
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return `This function may not read ${what}: ${(err as Error).message}`;
  return `Reading ${what} failed: ${name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`;
}

/** The parameter's value checked and shaped as the provider client takes it; errors never include the value. */
function parseCredentials(settings: PushSettings, provider: PushProvider, parameter: string, value: string): ProviderCredentials {
  const fail = (problem: string): never => {
    throw new PushCredentialsError(provider, `The ${SECRET_NAMES[provider]} parameter ${parameter} ${problem}`);
  };
  switch (provider) {
    case 'apns': {
      const privateKey = value.trim();
      if (!privateKey.startsWith('-----BEGIN PRIVATE KEY-----')) fail('does not hold a .p8 key: put the whole text of the AuthKey_<keyId>.p8 file (from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----).');
      let details: { type?: string; curve?: string } = {};
      try {
        const key = createPrivateKey(privateKey);
        details = { type: key.asymmetricKeyType, curve: key.asymmetricKeyDetails?.namedCurve };
      } catch {
        fail('holds a PEM block that is not a readable private key: put the AuthKey_<keyId>.p8 file unchanged.');
      }
      if (details.type !== 'ec' || details.curve !== 'prime256v1') fail(`holds a key of type ${(details.type ?? 'unknown').toUpperCase()}${details.curve ? ` (${details.curve})` : ''}, not the P-256 (ES256) key of an APNs .p8 file.`);
      return { ...settings.apns!, privateKey };
    }
    case 'fcm': {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(value) as Record<string, unknown>;
      } catch {
        return fail('is not JSON: put the service account\'s key file unchanged (Firebase console → Project settings → Service accounts → Generate new private key).');
      }
      if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('is not a JSON object: put the service account\'s key file unchanged.');
      if (json.type !== undefined && json.type !== 'service_account') fail(`holds a key file of type ${JSON.stringify(json.type)}, not a service account's ("type": "service_account").`);
      const clientEmail = json.client_email;
      if (typeof clientEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(clientEmail)) fail('has no client_email: it must be the service account\'s JSON key file, which names the account in client_email.');
      const privateKey = json.private_key;
      if (typeof privateKey !== 'string' || !privateKey.includes('-----BEGIN PRIVATE KEY-----')) fail('has no private_key: it must be the service account\'s JSON key file, with its private_key (PEM).');
      let type: string | undefined;
      try {
        type = createPrivateKey(privateKey as string).asymmetricKeyType;
      } catch {
        fail('has a private_key that is not a readable private key: put the key file unchanged (its newlines are \\n inside the JSON string).');
      }
      if (type !== 'rsa') fail(`has a private_key of type ${(type ?? 'unknown').toUpperCase()}, not the RSA key (RS256) of a service account.`);
      return { ...settings.fcm!, clientEmail: clientEmail as string, privateKey: privateKey as string };
    }
    case 'webpush': {
      const privateKey = value.trim();
      const bytes = /^[A-Za-z0-9_-]+$/.test(privateKey) ? Buffer.from(privateKey, 'base64url') : Buffer.alloc(0);
      if (bytes.length !== 32) fail('does not hold a VAPID private key: put the privateKey printed by `npx web-push generate-vapid-keys` (43 base64url characters, 32 bytes).');
      let publicKey: string;
      try {
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(bytes);
        publicKey = ecdh.getPublicKey().toString('base64url');
      } catch {
        return fail('does not hold a valid P-256 private key.');
      }
      if (publicKey !== settings.webpush!.publicKey) fail('holds the private key of another key pair: its public key is not offlinePush.webpush.publicKey. Put the privateKey printed together with that publicKey.');
      return { ...settings.webpush!, privateKey };
    }
  }
}
