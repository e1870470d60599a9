/**
 * The MLS primitives the encrypted conversations use, from `ts-mls` (RFC 9420), imported by
 * module so that only what is used is bundled. No cryptography is written here: this file
 * names the ciphersuite, encodes and decodes, and converts bytes to the base64 the wire carries.
 */
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { getCiphersuiteFromName, type CiphersuiteImpl } from 'ts-mls/crypto/ciphersuite.js';
import { generateKeyPackageWithKey, makeKeyPackageRef, type KeyPackage, type PrivateKeyPackage } from 'ts-mls/keyPackage.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { defaultLifetime } from 'ts-mls/lifetime.js';
import { decodeMlsMessage, encodeMlsMessage, type MLSMessage } from 'ts-mls/message.js';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { decodeGroupState, encodeGroupState, type ClientState } from 'ts-mls/clientState.js';

export { createGroup, joinGroup, type ClientState } from 'ts-mls/clientState.js';
export { createCommit } from 'ts-mls/createCommit.js';
export { createApplicationMessage } from 'ts-mls/createMessage.js';
export { processMessage } from 'ts-mls/processMessages.js';
export { emptyPskIndex } from 'ts-mls/pskIndex.js';
export { acceptAll } from 'ts-mls/incomingMessageAction.js';
export type { KeyPackage, PrivateKeyPackage } from 'ts-mls/keyPackage.js';
export type { Proposal } from 'ts-mls/proposal.js';
export type { Welcome } from 'ts-mls/welcome.js';
export type { MLSMessage } from 'ts-mls/message.js';

/** RFC 9420 suite 1: X25519, AES-128-GCM, SHA-256, Ed25519 (the server accepts only this one). */
export const CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

let suite: Promise<CiphersuiteImpl> | undefined;
export const cipherSuite = (): Promise<CiphersuiteImpl> => (suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE)));

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** A device's long-term signature key pair (Ed25519): its identity in every group. */
export interface SignatureKeys {
  publicKey: Uint8Array;
  signKey: Uint8Array;
}

export async function newSignatureKeys(): Promise<SignatureKeys> {
  return (await cipherSuite()).signature.keygen();
}

/** The identity of a device's basic credential: `<userId>/<deviceId>` (the directory checks it). */
export const identityOf = (userId: string, deviceId: string): string => `${userId}/${deviceId}`;

export function parseIdentity(identity: Uint8Array): { userId: string; deviceId: string } | undefined {
  const s = fromUtf8(identity);
  const i = s.lastIndexOf('/');
  return i > 0 ? { userId: s.slice(0, i), deviceId: s.slice(i + 1) } : undefined;
}

export interface GeneratedKeyPackage {
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
  /** The MLSMessage of the key package, base64: what the directory stores. */
  b64: string;
  /** KeyPackageRef (RFC 9420 §5.2), hex: what a Welcome names it by. */
  ref: string;
}

export async function generateKeyPackage(userId: string, deviceId: string, keys: SignatureKeys): Promise<GeneratedKeyPackage> {
  const cs = await cipherSuite();
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    { credentialType: 'basic', identity: utf8(identityOf(userId, deviceId)) },
    defaultCapabilities(),
    defaultLifetime,
    [],
    keys,
    cs,
  );
  const b64 = toBase64(encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage }));
  return { publicPackage, privatePackage, b64, ref: toHex(await makeKeyPackageRef(publicPackage, cs.hash)) };
}

export async function keyPackageRef(kp: KeyPackage): Promise<string> {
  return toHex(await makeKeyPackageRef(kp, (await cipherSuite()).hash));
}

export function decodeMessage(b64: string): MLSMessage {
  const bytes = fromBase64(b64);
  const decoded = decodeMlsMessage(bytes, 0);
  if (!decoded) throw new Error('Not an MLS message');
  return decoded[0];
}

export const encodeMessage = (m: MLSMessage): string => toBase64(encodeMlsMessage(m));

export const encodeState = (state: ClientState): string => toBase64(encodeGroupState(state));

export function decodeState(b64: string): ClientState {
  const decoded = decodeGroupState(fromBase64(b64), 0);
  if (!decoded) throw new Error('Corrupt MLS group state');
  return { ...decoded[0], clientConfig: defaultClientConfig };
}

/** SHA-256 of bytes, hex in groups of four: the fingerprint users compare (the directory shows the same). */
export async function fingerprint(publicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey as Uint8Array<ArrayBuffer>));
  return toHex(digest).match(/.{4}/g)!.join(' ');
}

/** A group member (leaf) as the device's own MLS state knows it. */
export interface Leaf {
  leafIndex: number;
  userId: string;
  deviceId: string;
  signatureKey: Uint8Array;
}

export function leavesOf(state: ClientState): Leaf[] {
  const out: Leaf[] = [];
  state.ratchetTree.forEach((node, i) => {
    if (node?.nodeType !== 'leaf' || node.leaf.credential.credentialType !== 'basic') return;
    const id = parseIdentity(node.leaf.credential.identity);
    if (id) out.push({ leafIndex: i / 2, ...id, signatureKey: node.leaf.signaturePublicKey });
  });
  return out;
}
