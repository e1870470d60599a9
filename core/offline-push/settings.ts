/**
 * The offline push settings, checked in one place for the CDK props (`offlinePush`, at synth),
 * the local runtime and the functions (`PUSH_SETTINGS`, when they read them): each problem is a
 * sentence naming the field and saying what it must be. No secret is ever part of them; each
 * secret is named by the SSM SecureString parameter that holds it.
 */
import { createPublicKey } from 'node:crypto';
import { PUSH_PROVIDERS, type PushProvider, type PushSettings } from './types';

/** Bundle ids one APNs key may serve in a deployment (each an apns-topic). */
export const MAX_APNS_BUNDLE_IDS = 50;
/** The longest bundle id taken. */
export const MAX_BUNDLE_ID_LENGTH = 255;
/** Parameter Store: a name may not be longer than this, counted with its ARN. */
export const MAX_PARAMETER_NAME_WITH_ARN = 1011;
/** Parameter Store: at most this many levels in a hierarchy. */
export const MAX_PARAMETER_LEVELS = 15;
/** The longest ARN prefix of a parameter (the longest partition and region, an account). */
const LONGEST_ARN_PREFIX = 'arn:aws-us-gov:ssm:ap-southeast-4:123456789012:parameter/';

/** The deployment's notification rules besides the providers (core/offline-push/rules.ts), both default true. */
export const PUSH_RULE_SETTINGS = ['showPreview', 'mentionsBreakThrough'] as const;

/** Which field of each provider names its secret's parameter. */
export const SECRET_PARAMETER_FIELDS = { apns: 'keyParameter', fcm: 'serviceAccountParameter', webpush: 'privateKeyParameter' } as const satisfies Record<PushProvider, string>;

/** The providers a deployment has, in PUSH_PROVIDERS order. */
export function configuredProviders(settings: PushSettings | undefined): PushProvider[] {
  return PUSH_PROVIDERS.filter((provider) => settings?.[provider] !== undefined);
}

/** The SecureString parameter holding a configured provider's secret (a name or an ARN). */
export function secretParameterOf(settings: PushSettings, provider: PushProvider): string {
  const section = settings[provider] as Record<string, string> | undefined;
  if (!section) throw new Error(`Offline push through ${provider} is not configured.`);
  return section[SECRET_PARAMETER_FIELDS[provider]];
}

/** The ARN of a parameter given by name or ARN (IAM authorizes GetParameter on it). */
export function parameterArn(nameOrArn: string, where: { partition: string; region: string; account: string }): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return `arn:${where.partition}:ssm:${where.region}:${where.account}:parameter/${nameOrArn.replace(/^\//, '')}`;
}

const describe = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : JSON.stringify(value) ?? String(value));

/** What is wrong with a parameter name or ARN, as a sentence ending, or undefined. */
function parameterNameProblem(value: string): string | undefined {
  let name = value;
  if (value.startsWith('arn:')) {
    const arn = /^arn:aws(-[a-z]+)*:ssm:[a-z]{2,4}(-[a-z]+)+-\d+:\d{12}:parameter\/(.+)$/.exec(value);
    if (!arn) return 'be a parameter name such as /myapp/push/apns-key, or a parameter ARN such as arn:aws:ssm:us-east-1:123456789012:parameter/myapp/push/apns-key';
    // In an ARN, a hierarchical name's leading slash is not repeated.
    name = arn[3].includes('/') ? `/${arn[3]}` : arn[3];
  }
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) return 'contain only letters, digits, _ . - and / (Parameter Store\'s characters)';
  if (name.includes('/') && !name.startsWith('/')) return 'start with / when it has a hierarchy (a fully qualified name such as /myapp/push/apns-key)';
  const segments = name.replace(/^\//, '').split('/');
  if (segments.some((s) => s === '')) return 'have no empty level (no // and no trailing /)';
  if (/^(aws|ssm)/i.test(segments[0])) return 'not begin with "aws" or "ssm" (Parameter Store reserves them)';
  if (segments.length > MAX_PARAMETER_LEVELS) return `have at most ${MAX_PARAMETER_LEVELS} levels`;
  if (LONGEST_ARN_PREFIX.length + name.replace(/^\//, '').length > MAX_PARAMETER_NAME_WITH_ARN) {
    return `be at most ${MAX_PARAMETER_NAME_WITH_ARN} characters counted with its ARN`;
  }
  return undefined;
}

/** The decoded VAPID public key, or a sentence ending saying what is wrong with it. */
function vapidKeyProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return 'be base64url without padding (letters, digits, - and _)';
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length !== 65 || bytes[0] !== 0x04) return `decode to the 65 bytes of an uncompressed P-256 point (0x04, x, y); it decodes to ${bytes.length} bytes${bytes.length ? ` starting 0x${bytes[0].toString(16).padStart(2, '0')}` : ''}`;
  try {
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: bytes.subarray(1, 33).toString('base64url'), y: bytes.subarray(33).toString('base64url') }, format: 'jwk' });
  } catch {
    return 'be a point on the P-256 curve (this one is not)';
  }
  return undefined;
}

/**
 * The settings, checked: throws an Error whose message is a sentence naming the field
 * (`<prefix>.apns.keyId must be …`). `prefix` is how the caller names the whole
 * (`offlinePush` for the CDK prop, `PUSH_SETTINGS` for the variable).
 */
export function validatePushSettings(input: unknown, prefix: string): PushSettings {
  const fail = (field: string, must: string, value: unknown): never => {
    throw new Error(`${prefix}.${field} must ${must}; got ${describe(value)}.`);
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${prefix} must be an object with apns, fcm and/or webpush; got ${describe(input)}.`);
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (given[key] !== undefined && !(PUSH_PROVIDERS as readonly string[]).includes(key) && !(PUSH_RULE_SETTINGS as readonly string[]).includes(key)) {
      throw new Error(`${prefix}.${key} is not a push provider: use apns (Apple), fcm (Firebase Cloud Messaging) or webpush (browsers); the other settings are ${PUSH_RULE_SETTINGS.join(' and ')}.`);
    }
  }
  for (const key of PUSH_RULE_SETTINGS) {
    if (given[key] !== undefined && typeof given[key] !== 'boolean') fail(key, 'be true or false', given[key]);
  }
  if (PUSH_PROVIDERS.every((provider) => given[provider] === undefined)) {
    throw new Error(`${prefix} must configure at least one provider: apns, fcm or webpush (leave ${prefix} out to turn offline push off).`);
  }
  const section = (provider: PushProvider, fields: readonly string[]): Record<string, unknown> | undefined => {
    const value = given[provider];
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(provider, `be an object with ${fields.join(', ')}`, value);
    for (const key of Object.keys(value)) {
      if (!fields.includes(key) && (value as Record<string, unknown>)[key] !== undefined) throw new Error(`${prefix}.${provider}.${key} is not a setting of ${provider}: its settings are ${fields.join(', ')}.`);
    }
    return value as Record<string, unknown>;
  };
  const text = (provider: PushProvider, values: Record<string, unknown>, field: string, must: string, test: (value: string) => string | boolean | undefined): string => {
    const value = values[field];
    if (typeof value !== 'string') return fail(`${provider}.${field}`, must, value);
    const result = test(value);
    if (result === false) return fail(`${provider}.${field}`, must, value);
    if (typeof result === 'string') return fail(`${provider}.${field}`, result, value);
    return value;
  };
  const parameter = (provider: PushProvider, values: Record<string, unknown>, field: string) =>
    text(provider, values, field, 'be the name (or ARN) of the SSM SecureString parameter holding the secret', (value) => parameterNameProblem(value));

  const settings: { -readonly [P in keyof PushSettings]: PushSettings[P] } = {};
  for (const key of PUSH_RULE_SETTINGS) if (given[key] !== undefined) settings[key] = given[key] as boolean;
  const apns = section('apns', ['keyId', 'teamId', 'bundleIds', 'keyParameter']);
  if (apns) {
    const keyId = text('apns', apns, 'keyId', "be the 10-character Key ID of the APNs key (uppercase letters and digits, shown with the key under Certificates, Identifiers & Profiles → Keys)", (v) => /^[A-Z0-9]{10}$/.test(v));
    const teamId = text('apns', apns, 'teamId', 'be the 10-character Team ID of the Apple developer account (uppercase letters and digits, shown under Membership details)', (v) => /^[A-Z0-9]{10}$/.test(v));
    const bundleIds = apns.bundleIds;
    if (!Array.isArray(bundleIds) || bundleIds.length < 1 || bundleIds.length > MAX_APNS_BUNDLE_IDS) {
      fail('apns.bundleIds', `list 1 to ${MAX_APNS_BUNDLE_IDS} bundle ids of the apps devices register for`, bundleIds);
    }
    const seen = new Set<string>();
    (bundleIds as unknown[]).forEach((id, i) => {
      if (typeof id !== 'string' || id.length > MAX_BUNDLE_ID_LENGTH || !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(id)) {
        fail(`apns.bundleIds[${i}]`, `be a bundle id in reverse-DNS form such as com.example.chat (letters, digits, hyphens, separated by periods; at most ${MAX_BUNDLE_ID_LENGTH} characters)`, id);
      }
      // Apple compares bundle ids without regard to case.
      const folded = (id as string).toLowerCase();
      if (seen.has(folded)) throw new Error(`${prefix}.apns.bundleIds lists ${id} twice (bundle ids do not differ by case): list each app once.`);
      seen.add(folded);
    });
    settings.apns = { keyId, teamId, bundleIds: [...(bundleIds as string[])], keyParameter: parameter('apns', apns, 'keyParameter') };
  }
  const fcm = section('fcm', ['projectId', 'serviceAccountParameter']);
  if (fcm) {
    const projectId = text(
      'fcm',
      fcm,
      'projectId',
      'be the Firebase project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen; Project settings → General)',
      (v) => /^([a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v),
    );
    settings.fcm = { projectId, serviceAccountParameter: parameter('fcm', fcm, 'serviceAccountParameter') };
  }
  const webpush = section('webpush', ['publicKey', 'subject', 'privateKeyParameter']);
  if (webpush) {
    const publicKey = text('webpush', webpush, 'publicKey', 'be the VAPID public key, base64url of an uncompressed P-256 point (the publicKey of `npx web-push generate-vapid-keys`)', (v) => vapidKeyProblem(v));
    const subject = text('webpush', webpush, 'subject', 'be a mailto: address or an https: URL where push services can reach the operator (e.g. mailto:ops@example.com)', (v) => {
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        return false;
      }
      if (url.protocol === 'mailto:') return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(decodeURIComponent(url.pathname));
      return url.protocol === 'https:' && url.hostname !== '';
    });
    settings.webpush = { publicKey, subject, privateKeyParameter: parameter('webpush', webpush, 'privateKeyParameter') };
  }
  // One parameter per secret: two secrets cannot live in one value.
  const named = new Map<string, string>();
  for (const provider of configuredProviders(settings)) {
    const field = `${provider}.${SECRET_PARAMETER_FIELDS[provider]}`;
    const name = secretParameterOf(settings, provider);
    const key = name.startsWith('arn:') ? name.replace(/^arn:[^:]+:ssm:[^:]+:\d+:parameter\//, '/').replace(/^\/\//, '/') : name.startsWith('/') ? name : `/${name}`;
    const other = named.get(key);
    if (other) throw new Error(`${prefix}.${field} names the same parameter as ${prefix}.${other} (${name}): each secret needs a parameter of its own.`);
    named.set(key, field);
  }
  return settings;
}
