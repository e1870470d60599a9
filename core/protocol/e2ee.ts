/**
 * End-to-end encrypted conversations (MLS, RFC 9420): the schemas of the key-package
 * directory's routes (core/http/routes/e2ee.ts) and of the encrypted content types that travel
 * through the ordinary send path. Cirrus never holds a key that opens any of it: key packages
 * carry public keys, and the content types carry MLS messages as opaque base64.
 */
import * as z from 'zod';
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
  z
    .string()
    .min(4, `${what}: empty`)
    .max(Math.ceil(maxBytes / 3) * 4, `${what}: more than ${maxBytes} bytes`)
    .regex(BASE64, `${what}: not padded standard base64`)
    .describe(`${what}, standard base64 (at most ${maxBytes} bytes decoded)`);

export const KeyPackageB64 = Base64(MAX_KEY_PACKAGE_BYTES, 'An MLS KeyPackage message (RFC 9420 MLSMessage, wire format mls_key_package)');

export const PublishKeyPackagesBody = z
  .strictObject({
    keyPackages: z.array(KeyPackageB64).max(MAX_KEY_PACKAGES_PER_PUBLISH).describe(`One-time key packages (at most ${MAX_KEY_PACKAGES_PER_PUBLISH} per call, ${MAX_KEY_PACKAGES_PER_DEVICE} held per device)`),
    lastResort: KeyPackageB64.optional().describe('The last-resort key package, handed out when the one-time ones run out (replaces the earlier one); required on the first publish of a device'),
  })
  .describe("Publish a device's key packages. Every key package must be of suite 1 and carry a basic credential whose identity is `<userId>/<deviceId>` and the device's signature key.");

export const E2eeDeviceView = z.strictObject({
  deviceId: DeviceId,
  fingerprint: z.string().describe("SHA-256 of the device's signature public key, hex in groups of four: compare it with what the device shows"),
  keyPackages: z.number().int().min(0).optional().describe('One-time key packages left (to the device\'s own user only)'),
  publishedAt: z.number().int().describe('Last publish, ms since the epoch'),
});

export const PublishKeyPackagesResult = z.strictObject({
  deviceId: DeviceId,
  keyPackages: z.number().int().min(0).describe('One-time key packages the device now holds in the directory'),
  added: z.number().int().min(0).describe('Key packages of this call not held before'),
});

export const ListE2eeDevicesResult = z.strictObject({ userId: z.string(), devices: z.array(E2eeDeviceView) });

export const ClaimKeyPackagesBody = z
  .strictObject({
    groupId: z.string().min(1).max(64).optional().describe('Claim for adding the user to this group: the caller and the user must both be its members'),
    deviceIds: z.array(DeviceId).min(1).max(MAX_E2EE_DEVICES).optional().describe('Only these devices of the user (default: all)'),
  })
  .describe('Claim one key package of each device of the user.');

export const ClaimedKeyPackage = z.strictObject({
  deviceId: DeviceId,
  keyPackage: KeyPackageB64,
  lastResort: z.boolean().describe('true: the device had no one-time key package left; this one may have been handed out before'),
});
export const ClaimKeyPackagesResult = z.strictObject({ userId: z.string(), keyPackages: z.array(ClaimedKeyPackage) });

export const RemoveE2eeDeviceResult = z.strictObject({ removed: z.boolean().describe('false: the device was not in the directory') });

/** MLS messages in a conversation: 12 KB decoded, inside the 16 KB content limit once base64. */
export const MAX_MLS_MESSAGE_BYTES = 12 * 1024;
const MlsData = Base64(MAX_MLS_MESSAGE_BYTES, 'An MLS message (RFC 9420 MLSMessage)');
const Epoch = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('The MLS epoch the message was sent in');

export const MlsApplicationContent = z.strictObject({ data: MlsData, epoch: Epoch });
export const MlsHandshakeContent = z.strictObject({ data: MlsData, epoch: Epoch });
export const MlsWelcomeContent = z.strictObject({
  data: MlsData,
  commitSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('The seq of the commit that added the devices: they read the conversation from the next seq'),
  devices: z
    .array(z.strictObject({ userId: z.string().min(1).max(64), deviceId: DeviceId }))
    .min(1)
    .max(100)
    .describe('The devices the Welcome is for'),
});
