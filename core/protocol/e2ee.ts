/**
 * End-to-end encrypted conversations (MLS, RFC 9420): the schemas of the key-package
 * directory's routes (core/http/routes/e2ee.ts) and of the encrypted content types that travel
 * through the ordinary send path. Cirrus never holds a key that opens any of it: key packages
 * carry public keys, and the content types carry MLS messages as opaque base64.
 */
import * as z from 'zod/mini';
import { DeviceId } from './push-devices';

/** The one ciphersuite of Cirrus's encrypted conversations: X25519, AES-128-GCM, SHA-256, Ed25519 (RFC 9420 suite 1). */
export const MLS_CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

/** Largest key package, in bytes once decoded (one of suite 1 is about 300). */
export const MAX_KEY_PACKAGE_BYTES = 2048;
/** Key packages published in one call. */
export const MAX_KEY_PACKAGES_PER_PUBLISH = 100;
/** One-time key packages a device may hold in the directory. */
export const MAX_KEY_PACKAGES_PER_DEVICE = 200;
/** Devices a user may have in the directory. */
export const MAX_E2EE_DEVICES = 10;

/** Encrypted content types, beside the chat content types of core/protocol/schema.ts. */
export const EncryptedContentType = {
  /** An MLS application message (PrivateMessage): the chat content (text, media keys, edits, reactions) encrypted. */
  mlsApplication: 150,
  /** An MLS handshake message: a commit or proposal (PrivateMessage), which moves the group to its next epoch. */
  mlsHandshake: 151,
  /** An MLS Welcome: the group secrets for the devices a commit added. */
  mlsWelcome: 152,
} as const;
export const ENCRYPTED_CONTENT_TYPES: ReadonlySet<number> = new Set(Object.values(EncryptedContentType));

/** The identity a device's MLS credential (basic) carries, which the directory checks against its path. */
export const mlsIdentity = (userId: string, deviceId: string): string => `${userId}/${deviceId}`;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (RFC 4648 §4, padded), at most `maxBytes` once decoded. */
export const Base64 = (maxBytes: number, what: string) =>
  z.string().check(
    z.minLength(4, `${what}: empty`),
    z.maxLength(Math.ceil(maxBytes / 3) * 4, `${what}: more than ${maxBytes} bytes`),
    z.regex(BASE64, `${what}: not padded standard base64`),
    z.describe(`${what}, standard base64 (at most ${maxBytes} bytes decoded)`),
  );

export const KeyPackageB64 = Base64(MAX_KEY_PACKAGE_BYTES, 'An MLS KeyPackage message (RFC 9420 MLSMessage, wire format mls_key_package)');

export const PublishKeyPackagesBody = z.strictObject({
    keyPackages: z.array(KeyPackageB64).check(
      z.maxLength(MAX_KEY_PACKAGES_PER_PUBLISH),
      z.describe(`One-time key packages (at most ${MAX_KEY_PACKAGES_PER_PUBLISH} per call, ${MAX_KEY_PACKAGES_PER_DEVICE} held per device)`),
    ),
    lastResort: z.optional(KeyPackageB64).check(z.describe('The last-resort key package, handed out when the one-time ones run out (replaces the earlier one); required on the first publish of a device')),
  }).check(z.describe("Publish a device's key packages. Every key package must be of suite 1 and carry a basic credential whose identity is `<userId>/<deviceId>` and the device's signature key."));

export const E2eeDeviceView = z.strictObject({
  deviceId: DeviceId,
  fingerprint: z.string().check(z.describe("SHA-256 of the device's signature public key, hex in groups of four: compare it with what the device shows")),
  keyPackages: z.optional(z.int().check(z.gte(0))).check(z.describe('One-time key packages left (to the device\'s own user only)')),
  publishedAt: z.int().check(z.describe('Last publish, ms since the epoch')),
});

export const PublishKeyPackagesResult = z.strictObject({
  deviceId: DeviceId,
  keyPackages: z.int().check(z.gte(0), z.describe('One-time key packages the device now holds in the directory')),
  added: z.int().check(z.gte(0), z.describe('Key packages of this call not held before')),
});

export const ListE2eeDevicesResult = z.strictObject({ userId: z.string(), devices: z.array(E2eeDeviceView) });

export const ClaimKeyPackagesBody = z.strictObject({
    groupId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))).check(z.describe('Claim for adding the user to this group: the caller and the user must both be its members')),
    deviceIds: z.optional(z.array(DeviceId).check(z.minLength(1), z.maxLength(MAX_E2EE_DEVICES))).check(z.describe('Only these devices of the user (default: all)')),
  }).check(z.describe('Claim one key package of each device of the user.'));

export const ClaimedKeyPackage = z.strictObject({
  deviceId: DeviceId,
  keyPackage: KeyPackageB64,
  lastResort: z.boolean().check(z.describe('true: the device had no one-time key package left; this one may have been handed out before')),
});
export const ClaimKeyPackagesResult = z.strictObject({ userId: z.string(), keyPackages: z.array(ClaimedKeyPackage) });

export const RemoveE2eeDeviceResult = z.strictObject({ removed: z.boolean().check(z.describe('false: the device was not in the directory')) });

/** MLS messages in a conversation: 12 KB decoded, inside the 16 KB content limit once base64. */
export const MAX_MLS_MESSAGE_BYTES = 12 * 1024;
const MlsData = Base64(MAX_MLS_MESSAGE_BYTES, 'An MLS message (RFC 9420 MLSMessage)');
const Epoch = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER), z.describe('The MLS epoch the message was sent in'));

export const MlsApplicationContent = z.strictObject({ data: MlsData, epoch: Epoch });
export const MlsHandshakeContent = z.strictObject({ data: MlsData, epoch: Epoch });
export const MlsWelcomeContent = z.strictObject({
  data: MlsData,
  commitSeq: z.int().check(
    z.gte(1),
    z.lte(Number.MAX_SAFE_INTEGER),
    z.describe('The seq of the commit that added the devices: they read the conversation from the next seq'),
  ),
  devices: z.array(z.strictObject({ userId: z.string().check(z.minLength(1), z.maxLength(64)), deviceId: DeviceId })).check(
    z.minLength(1),
    z.maxLength(100),
    z.describe('The devices the Welcome is for'),
  ),
});
