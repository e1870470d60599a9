/**
 * End-to-end encrypted conversations (MLS, RFC 9420) on a `CirrusClient`.
 *
 * Every device of every member is a leaf of the conversation's MLS group. The server carries
 * three content types it cannot read: 150 application messages (the chat content), 151
 * handshake messages (commits) and 152 Welcomes. A conversation's seq is the delivery
 * service's total order: each device processes the conversation strictly by seq, so every
 * device applies the same commits in the same order; of two commits made at the same epoch the
 * first by seq wins, the other is ignored by everyone and its author retries on the new epoch.
 *
 * Imported separately (`@cirrus-im/sdk/e2ee`), so that apps without encryption do not bundle MLS.
 */
import type { CirrusClient } from '../client';
import { Emitter } from '../emitter';
import { CirrusSdkError } from '../errors';
import { groupConversationId, singleConversationId } from '../ids';
import type { Message, MessageBody } from '../protocol';
import type { KeyValueStorage } from '../store/keyvalue';
import {
  acceptAll,
  cipherSuite,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMessage,
  decodeState,
  emptyPskIndex,
  encodeMessage,
  encodeState,
  fingerprint,
  fromBase64,
  fromUtf8,
  generateKeyPackage,
  joinGroup,
  keyPackageRef,
  leavesOf,
  newSignatureKeys,
  processMessage,
  toBase64,
  toHex,
  utf8,
  type ClientState,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
  type SignatureKeys,
} from './mls';

export { fingerprint } from './mls';

/** Encrypted content types (core/protocol/e2ee.ts). */
export const EncryptedContentType = { mlsApplication: 150, mlsHandshake: 151, mlsWelcome: 152 } as const;

export interface E2eeOptions {
  client: CirrusClient;
  /** This installation's device id (the same the app uses for offline push is fine). */
  deviceId: string;
  /** Where keys, group states and decrypted messages are kept (the SDK's KeyValueStorage); default: memory. */
  storage?: KeyValueStorage;
  /** One-time key packages to keep in the directory. @default 20 */
  keyPackages?: number;
  /** Publish more when fewer than this are left. @default 5 */
  lowWater?: number;
  /** A device commits an Update (fresh keys) when the group's keys are older than this. @default 7 days */
  rotateAfterMs?: number;
  /**
   * Membership follows the group: on a group's join, invite, kick or quit notification in an encrypted conversation,
   * this device reconciles the MLS group with the members' devices after a random delay up to this many ms (0: never by itself).
   * @default 3000
   */
  autoReconcileMs?: number;
  /**
   * History sharing, off by default (0): when a user's new device joins a conversation, one of the user's devices already
   * in it sends the new one, inside the group, up to this many of the latest messages it decrypted from before. Without it
   * a new device reads nothing from before it joined; a new member never gets earlier messages. Every device of the app
   * should use the same setting: a device imports shared history only when its own is above 0, and only from its own
   * user's devices. See "History sharing" in the SDK README for what it trades away.
   * @default 0
   */
  shareHistory?: number;
  /**
   * A device added by another device's commit whose Welcome does not follow within this many ms (its committer crashed and
   * has not come back) is removed and added again, with a fresh key package, by the next `reconcile` of a device that saw it.
   * @default 600000 (10 minutes)
   */
  welcomeTimeoutMs?: number;
}

/** A decrypted message of an encrypted conversation. */
export interface DecryptedMessage {
  conversationId: string;
  seq: number;
  senderId: string;
  sendTime: number;
  contentType: number;
  content: unknown;
  /** Shared by this device (`userId/deviceId`) of the same user when this device joined (the `shareHistory` option). */
  sharedBy?: string;
}

export interface E2eeEvents {
  /** A message decrypted (or sent by this device). */
  message: DecryptedMessage;
  /** A message this device cannot read: sent before it joined, after it was removed, or corrupted. */
  undecryptable: { conversationId: string; seq: number; reason: string };
  /** The group moved to a new epoch (members or keys changed). */
  epochChanged: { conversationId: string; epoch: number };
  /** This device joined the conversation's group (a Welcome). */
  joined: { conversationId: string; epoch: number };
  /** This device was removed from the conversation's group: it cannot read what follows. */
  removed: { conversationId: string };
}

interface StoredGroup {
  state: string;
  /** Every seq up to this one has been processed. */
  seq: number;
  keysAt: number;
}

/**
 * A commit made but not yet settled, kept before it is sent (write-ahead): after a crash the device finds it on open, learns
 * from the conversation whether the commit took its epoch (its seq), and then sends the Welcome it would have sent.
 */
interface PendingCommit {
  epoch: number;
  commit: string;
  commitMsgId: string;
  /** The group state the commit leads to, adopted when it is found at its seq with its epoch still current. */
  state: string;
  welcome?: string;
  welcomeMsgId: string;
  devices: { userId: string; deviceId: string }[];
  /** Where the commit took its epoch (set when adopted). */
  commitSeq?: number;
}

/** The body of an application message carrying shared history to the devices just added. */
interface SharedHistory {
  history: { from: string; for: { userId: string; deviceId: string }[]; messages: DecryptedMessage[] };
}

/** Shared history per MLS message: the JSON of its messages stays under this many bytes (a message larger is not shared). */
const HISTORY_CHUNK_BYTES = 7000;

const newMsgId = (): string => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

interface StoredKeyPackage {
  pub: string;
  init: string;
  hpke: string;
  lastResort?: boolean;
}

interface Identity {
  publicKey: string;
  signKey: string;
}

class MemoryKv implements KeyValueStorage {
  private readonly m = new Map<string, string>();
  async getItem(k: string) {
    return this.m.get(k);
  }
  async setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  async removeItem(k: string) {
    this.m.delete(k);
  }
  async getAllKeys() {
    return [...this.m.keys()];
  }
}

const WELCOME_WINDOW = 100;
/** Devices added by one commit: each key package is about 330 bytes inside it. */
const ADD_PER_COMMIT = 10;
/** The largest MLS message the server accepts as content (core/protocol/e2ee.ts MAX_MLS_MESSAGE_BYTES), as base64. */
const MAX_MLS_BASE64 = Math.ceil((12 * 1024) / 3) * 4;

/** A device's side of the encrypted conversations. */
export class E2ee extends Emitter<E2eeEvents> {
  readonly userId: string;
  readonly deviceId: string;
  private readonly client: CirrusClient;
  private readonly kv: KeyValueStorage;
  private readonly prefix: string;
  private keys!: SignatureKeys;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private unfollow?: () => void;
  private closed = false;

  private constructor(private readonly options: E2eeOptions) {
    super();
    this.client = options.client;
    this.userId = options.client.userId;
    this.deviceId = options.deviceId;
    this.kv = options.storage ?? new MemoryKv();
    this.prefix = `e2ee:${this.userId}:${this.deviceId}:`;
  }

  /**
   * Opens the device: loads (or creates) its signature key, publishes key packages until the
   * directory holds enough, and follows new messages of encrypted conversations.
   *
   * @example
   * const e2ee = await E2ee.open({ client, deviceId: 'laptop-1' });
   * e2ee.on('message', (m) => show(m));
   */
  static async open(options: E2eeOptions): Promise<E2ee> {
    const e = new E2ee(options);
    await e.loadIdentity();
    await e.replenish();
    e.unfollow = e.client.on('recvNewMessage', ({ message }) => {
      if (message.contentType >= 150 && message.contentType <= 152) void e.catchUp(message.conversationId).catch(() => undefined);
      else if (message.contentType >= 1507 && message.contentType <= 1510) void e.onMembershipNotice(message.conversationId);
    });
    // Devices added or logged out while this one was away (a new phone of a member, a lost one taken out of the
    // directory) have no notification: each device looks again when it opens.
    const prefix = e.key('g:');
    const pending = e.key('pc:');
    for (const k of await e.kv.getAllKeys()) {
      if (k.startsWith(prefix)) e.onMembershipNotice(k.slice(prefix.length));
      // A commit this device made before it stopped (crashed, or closed) between sending its commit and its Welcome.
      if (k.startsWith(pending)) {
        const conversationId = k.slice(pending.length);
        void e.serial(conversationId, () => e.settlePending(conversationId)).catch(() => undefined);
      }
    }
    return e;
  }

  /** Stops following the client (keys and states stay in the storage). */
  close(): void {
    this.closed = true;
    this.unfollow?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---------- identity and key packages ----------

  private key(k: string): string {
    return this.prefix + k;
  }
  private async getJson<T>(k: string): Promise<T | undefined> {
    const v = await this.kv.getItem(this.key(k));
    return v ? (JSON.parse(v) as T) : undefined;
  }
  private setJson(k: string, v: unknown): Promise<void> {
    return this.kv.setItem(this.key(k), JSON.stringify(v));
  }

  private async loadIdentity(): Promise<void> {
    const stored = await this.getJson<Identity>('id');
    if (stored) {
      this.keys = { publicKey: fromBase64(stored.publicKey), signKey: fromBase64(stored.signKey) };
      return;
    }
    this.keys = await newSignatureKeys();
    await this.setJson('id', { publicKey: toBase64(this.keys.publicKey), signKey: toBase64(this.keys.signKey) } satisfies Identity);
  }

  /** This device's key fingerprint (SHA-256 of its signature key), as others see it in their groups and the directory. */
  fingerprint(): Promise<string> {
    return fingerprint(this.keys.publicKey);
  }

  private async keep(kp: Awaited<ReturnType<typeof generateKeyPackage>>, lastResort = false): Promise<void> {
    await this.setJson(`kp:${kp.ref}`, { pub: kp.b64, init: toBase64(kp.privatePackage.initPrivateKey), hpke: toBase64(kp.privatePackage.hpkePrivateKey), ...(lastResort ? { lastResort } : {}) } satisfies StoredKeyPackage);
  }

  /**
   * Publishes one-time key packages until the directory holds `keyPackages` of this device (and a last-resort one the first time).
   * Runs on open and after each Welcome; call it now and then (e.g. on connect) in long-lived apps.
   */
  async replenish(): Promise<number> {
    const target = this.options.keyPackages ?? 20;
    const mine = await this.client.api.listE2eeDevices({ params: { userId: this.userId } });
    const me = mine.devices.find((d) => d.deviceId === this.deviceId);
    const held = me?.keyPackages ?? 0;
    if (me && held >= (this.options.lowWater ?? 5)) return held;
    const fresh = [];
    for (let i = held; i < target; i++) fresh.push(await generateKeyPackage(this.userId, this.deviceId, this.keys));
    for (const kp of fresh) await this.keep(kp);
    let lastResort: string | undefined;
    if (!me) {
      const lr = await generateKeyPackage(this.userId, this.deviceId, this.keys);
      await this.keep(lr, true);
      lastResort = lr.b64;
    }
    const res = await this.client.api.publishKeyPackages({ params: { userId: this.userId, deviceId: this.deviceId }, body: { keyPackages: fresh.map((k) => k.b64), ...(lastResort ? { lastResort } : {}) } });
    return res.keyPackages;
  }

  /** Takes this device out of the directory (logout): its conversations' other devices remove it from their groups. */
  async logout(): Promise<void> {
    await this.client.api.removeE2eeDevice({ params: { userId: this.userId, deviceId: this.deviceId } });
    this.close();
  }

  // ---------- group states ----------

  private async loadGroup(conversationId: string): Promise<{ state: ClientState; seq: number; keysAt: number } | undefined> {
    const g = await this.getJson<StoredGroup>(`g:${conversationId}`);
    return g ? { state: decodeState(g.state), seq: g.seq, keysAt: g.keysAt } : undefined;
  }
  private saveGroup(conversationId: string, state: ClientState, seq: number, keysAt: number): Promise<void> {
    return this.setJson(`g:${conversationId}`, { state: encodeState(state), seq, keysAt } satisfies StoredGroup);
  }
  /** Seqs scanned (for a Welcome) while not in the group. */
  private async scanned(conversationId: string): Promise<number> {
    return (await this.getJson<number>(`s:${conversationId}`)) ?? 0;
  }

  /** Whether this device is in the conversation's MLS group. */
  async isMember(conversationId: string): Promise<boolean> {
    return (await this.getJson<StoredGroup>(`g:${conversationId}`)) !== undefined;
  }

  /** The group's epoch as this device knows it (undefined: not a member). */
  async epoch(conversationId: string): Promise<number | undefined> {
    const g = await this.loadGroup(conversationId);
    return g ? Number(g.state.groupContext.epoch) : undefined;
  }

  /**
   * The members' devices and their key fingerprints as this device's MLS state holds them (not as the server says):
   * compare a peer's with what their device shows (`fingerprint()`), in person or over another channel.
   */
  async members(conversationId: string): Promise<{ userId: string; deviceId: string; fingerprint: string }[]> {
    const g = await this.loadGroup(conversationId);
    if (!g) return [];
    return Promise.all(leavesOf(g.state).map(async (l) => ({ userId: l.userId, deviceId: l.deviceId, fingerprint: await fingerprint(l.signatureKey) })));
  }

  /**
   * The conversation's safety number for the current epoch: 60 digits every member device shows alike when they all hold the
   * same group (the same members and keys); it changes with every commit. From the MLS epoch authenticator (RFC 9420 §8.7).
   */
  async safetyNumber(conversationId: string): Promise<string | undefined> {
    const g = await this.loadGroup(conversationId);
    if (!g) return undefined;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', g.state.keySchedule.epochAuthenticator as Uint8Array<ArrayBuffer>));
    let digits = '';
    for (let i = 0; i < 30; i += 2) digits += String(((digest[i]! << 8) | digest[i + 1]!) % 100000).padStart(5, '0');
    return digits.slice(0, 60).match(/.{5}/g)!.join(' ');
  }

  /** The decrypted messages of a conversation kept on this device, ascending. */
  async getMessages(conversationId: string): Promise<DecryptedMessage[]> {
    const prefix = this.key(`p:${conversationId}:`);
    const keys = (await this.kv.getAllKeys()).filter((k) => k.startsWith(prefix));
    const out: DecryptedMessage[] = [];
    for (const k of keys) {
      const v = await this.kv.getItem(k);
      if (v) out.push(JSON.parse(v) as DecryptedMessage);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Runs `task` after the conversation's earlier tasks: one at a time per conversation. */
  private serial<T>(conversationId: string, task: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(conversationId) ?? Promise.resolve();
    const next = prev.then(task, task);
    this.queues.set(conversationId, next.catch(() => undefined));
    return next;
  }

  // ---------- creating and membership ----------

  /**
   * Starts the encrypted 1:1 conversation with `peerUserId` (or returns its id when this device is in it already):
   * creates the MLS group with every device of both users in the directory.
   *
   * @example
   * const conversationId = await e2ee.createSingle('bob');
   * await e2ee.sendText(conversationId, 'hi');
   */
  async createSingle(peerUserId: string): Promise<string> {
    const conversationId = singleConversationId(this.userId, peerUserId);
    await this.create(conversationId);
    return conversationId;
  }

  /** Starts the encrypted conversation of a group (the group exists; this user is a member) with every member's devices. */
  async createGroup(groupId: string): Promise<string> {
    const conversationId = groupConversationId(groupId);
    await this.create(conversationId);
    return conversationId;
  }

  private async create(conversationId: string): Promise<void> {
    const created = await this.serial(conversationId, async () => {
      await this.catchUpInner(conversationId);
      if (await this.isMember(conversationId)) return false;
      const kp = await generateKeyPackage(this.userId, this.deviceId, this.keys);
      const state = await createGroup(utf8(conversationId), kp.publicPackage, kp.privatePackage, [], await cipherSuite());
      // Everything before is plaintext or another group's: the group starts after what catchUp scanned.
      await this.saveGroup(conversationId, state, await this.scanned(conversationId), Date.now());
      return true;
    });
    const done = await this.reconcile(conversationId);
    // A 1:1 conversation turns encrypted on the server with its first MLS message (then plaintext is refused from either
    // side): when there was no device to add, an empty commit is that message.
    if (created && conversationId.startsWith('si_') && !done.added && !done.removed) await this.rotateKeys(conversationId);
  }

  /** The devices that should be in the group: every directory device of every member. */
  private async wantedDevices(conversationId: string): Promise<Map<string, { userId: string; deviceId: string }>> {
    let userIds: string[];
    let groupId: string | undefined;
    if (conversationId.startsWith('sg_')) {
      groupId = conversationId.slice(3);
      userIds = [];
      let cursor: string | undefined;
      do {
        const page = await this.client.api.listGroupMembers({ params: { groupId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } } as never);
        const p = page as { members: { userId: string }[]; nextCursor?: string | null };
        userIds.push(...p.members.map((m) => m.userId));
        cursor = p.nextCursor ?? undefined;
      } while (cursor);
    } else {
      const [a, b] = conversationId.slice(3).split('_');
      userIds = [a!, b!];
    }
    const wanted = new Map<string, { userId: string; deviceId: string }>();
    for (const userId of userIds) {
      const list = await this.client.api.listE2eeDevices({ params: { userId }, query: groupId ? { groupId } : {} });
      for (const d of list.devices) wanted.set(`${userId}/${d.deviceId}`, { userId, deviceId: d.deviceId });
    }
    return wanted;
  }

  /**
   * Makes the group's leaves match the members' devices: Add commits for new members and new devices (claiming one key
   * package each), Remove commits for members who left or were kicked and for devices taken out of the directory.
   * Resolves with the number of devices added and removed (0 and 0: nothing to do).
   *
   * @example
   * await client.api.addGroupMembers({ params: { groupId: 'team' }, body: { userIds: ['carol'] } });
   * await e2ee.reconcile('sg_team');
   */
  async reconcile(conversationId: string): Promise<{ added: number; removed: number }> {
    const total = { added: 0, removed: 0 };
    // Removals and additions go in separate commits, removals first: an added device may take a removed one's leaf,
    // and the removed device must see its removal as such.
    for (let round = 0; round < 20; round++) {
      let step: { added: number; removed: number } | undefined;
      await this.commitWith(conversationId, async (state) => {
        step = undefined;
        const wanted = await this.wantedDevices(conversationId);
        const leaves = leavesOf(state);
        // A device whose Welcome never came is in the tree but cannot read: it is removed here and added again below.
        const stranded = await this.stranded(conversationId);
        const removals: Proposal[] = leaves
          .filter((l) => !(l.userId === this.userId && l.deviceId === this.deviceId) && (!wanted.has(`${l.userId}/${l.deviceId}`) || stranded.has(`${l.userId}/${l.deviceId}`)))
          .map((l) => ({ proposalType: 'remove', remove: { removed: l.leafIndex } }));
        if (removals.length) {
          step = { added: 0, removed: removals.length };
          return { proposals: removals, added: [] };
        }
        const present = new Set(leaves.map((l) => `${l.userId}/${l.deviceId}`));
        const missing = [...wanted.values()].filter((d) => !present.has(`${d.userId}/${d.deviceId}`));
        const byUser = new Map<string, string[]>();
        for (const d of missing) byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d.deviceId]);
        const groupId = conversationId.startsWith('sg_') ? conversationId.slice(3) : undefined;
        const proposals: Proposal[] = [];
        const added: { userId: string; deviceId: string }[] = [];
        for (const [userId, all] of byUser) {
          // At most ADD_PER_COMMIT devices per commit (a commit carries their key packages): the rest in the next round.
          const deviceIds = all.slice(0, Math.max(0, ADD_PER_COMMIT - added.length));
          if (!deviceIds.length) break;
          const claimed = await this.client.api.claimKeyPackages({ params: { userId }, body: { deviceIds, ...(groupId ? { groupId } : {}) } });
          for (const c of claimed.keyPackages) {
            const m = decodeMessage(c.keyPackage);
            if (m.wireformat !== 'mls_key_package') continue;
            proposals.push({ proposalType: 'add', add: { keyPackage: m.keyPackage } });
            added.push({ userId, deviceId: c.deviceId });
          }
        }
        if (!proposals.length) return undefined;
        step = { added: added.length, removed: 0 };
        return { proposals, added };
      });
      if (!step) break;
      total.added += step.added;
      total.removed += step.removed;
    }
    return total;
  }

  /** Commits fresh keys for this device (an Update through an empty commit with a path): done by itself after `rotateAfterMs`. */
  async rotateKeys(conversationId: string): Promise<void> {
    await this.commitWith(conversationId, async () => ({ proposals: [], added: [] }));
  }

  /**
   * Makes a commit on the current epoch and sends it; when a commit of another device took the epoch first (an earlier seq),
   * this one is void for everyone: it catches up and tries again with what `build` says now.
   */
  private commitWith(conversationId: string, build: (state: ClientState) => Promise<{ proposals: Proposal[]; added: { userId: string; deviceId: string }[] } | undefined>): Promise<void> {
    return this.serial(conversationId, async () => {
      for (let attempt = 0; attempt < 8; attempt++) {
        await this.settlePending(conversationId);
        await this.catchUpInner(conversationId);
        const g = await this.loadGroup(conversationId);
        if (!g) throw new CirrusSdkError('USAGE', `This device is not in the encrypted conversation ${conversationId}`);
        const plan = await build(g.state);
        if (!plan) return;
        const epoch = Number(g.state.groupContext.epoch);
        const res = await createCommit({ state: g.state, cipherSuite: await cipherSuite() }, { extraProposals: plan.proposals, ratchetTreeExtension: true });
        const commitData = encodeMessage(res.commit);
        const welcomeData = res.welcome ? encodeMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: res.welcome }) : undefined;
        // Checked before anything is sent: a commit whose Welcome cannot be delivered would leave its new devices out.
        if (commitData.length > MAX_MLS_BASE64 || (welcomeData?.length ?? 0) > MAX_MLS_BASE64) {
          throw new CirrusSdkError('USAGE', `The group of ${conversationId} is too large for an encrypted conversation: its ${welcomeData && welcomeData.length > MAX_MLS_BASE64 ? 'Welcome' : 'commit'} would exceed ${MAX_MLS_BASE64} bytes`);
        }
        // Kept before the commit is sent: whatever happens next, this device (or its next start) finishes the job.
        await this.setJson(`pc:${conversationId}`, {
          epoch,
          commit: commitData,
          commitMsgId: newMsgId(),
          state: encodeState(res.newState),
          ...(welcomeData && plan.added.length ? { welcome: welcomeData } : {}),
          welcomeMsgId: newMsgId(),
          devices: plan.added,
        } satisfies PendingCommit);
        if (await this.settlePending(conversationId)) return;
        // Lost the race: another device's commit took the epoch first (an earlier seq); try again on the new epoch.
      }
      throw new CirrusSdkError('USAGE', `Could not commit to ${conversationId}: other devices kept committing first`);
    });
  }

  /**
   * Settles this device's pending commit of the conversation (inside its serial queue): sends the commit (again, with the same
   * clientMsgId, so a send that was stored already is answered with its seq), reads the conversation up to it, and when it
   * took its epoch sends its Welcome (and the shared history). Resolves true when the commit is in, false when it lost its
   * epoch or there was none. Runs on open for a commit a crash left between its two sends.
   */
  private async settlePending(conversationId: string): Promise<boolean> {
    let pc = await this.getJson<PendingCommit>(`pc:${conversationId}`);
    if (!pc) return false;
    if (pc.commitSeq === undefined) {
      // Read what is there first: the commit may be in already (its ack lost), or another one may have taken the epoch.
      await this.catchUpInner(conversationId);
      pc = await this.getJson<PendingCommit>(`pc:${conversationId}`);
      if (pc && pc.commitSeq === undefined && (await this.epoch(conversationId)) === pc.epoch) {
        const sent = await this.client.sendMessage({ ...this.target(conversationId), contentType: 151, content: { data: pc.commit, epoch: pc.epoch }, clientMsgId: pc.commitMsgId } as never);
        // Read up to the commit: every seq before it decides whether it took its epoch (a seq still being written holds the read up).
        for (let round = 0; ; round++) {
          await this.catchUpInner(conversationId, sent.seq);
          const now = await this.getJson<StoredGroup>(`g:${conversationId}`);
          if (!now || now.seq >= sent.seq) break; // read up to it, or removed from the group meanwhile
          if (round >= 50) throw new CirrusSdkError('USAGE', `The messages before seq ${sent.seq} of ${conversationId} are still being written; the commit is settled later`);
          await new Promise((r) => setTimeout(r, 200));
        }
        pc = await this.getJson<PendingCommit>(`pc:${conversationId}`);
      }
      if (!pc || pc.commitSeq === undefined) {
        await this.kv.removeItem(this.key(`pc:${conversationId}`));
        return false;
      }
    }
    if (pc.welcome) {
      await this.client.sendMessage({
        ...this.target(conversationId),
        contentType: 152,
        content: { data: pc.welcome, commitSeq: pc.commitSeq, devices: pc.devices },
        clientMsgId: pc.welcomeMsgId,
      } as never);
    }
    await this.kv.removeItem(this.key(`pc:${conversationId}`));
    return true;
  }

  /**
   * History sharing: a Welcome for new devices of this device's own user. One existing device of the user shares (the first by
   * deviceId among its leaves, the new ones aside), once it has read the conversation to the end (`shareDue`): it may share
   * only what its user could read anyway, and sends on the current epoch.
   */
  private async noteNewSiblings(conversationId: string, devices: { userId: string; deviceId: string }[], beforeSeq: number): Promise<void> {
    const siblings = devices.filter((d) => d.userId === this.userId && d.deviceId !== this.deviceId);
    if (!siblings.length) return;
    const g = await this.loadGroup(conversationId);
    if (!g) return;
    const sharer = leavesOf(g.state)
      .filter((l) => l.userId === this.userId && !siblings.some((s) => s.deviceId === l.deviceId))
      .map((l) => l.deviceId)
      .sort()[0];
    if (sharer !== this.deviceId) return;
    const due = (await this.getJson<{ devices: typeof siblings; beforeSeq: number }[]>(`hs:${conversationId}`)) ?? [];
    await this.setJson(`hs:${conversationId}`, [...due, { devices: siblings, beforeSeq }]);
  }

  /** Shares the history noted by `noteNewSiblings` (inside the conversation's serial queue, after a full catch-up). */
  private async shareDue(conversationId: string): Promise<void> {
    const due = await this.getJson<{ devices: { userId: string; deviceId: string }[]; beforeSeq: number }[]>(`hs:${conversationId}`);
    if (!due) return;
    if (await this.isMember(conversationId)) for (const d of due) await this.shareHistory(conversationId, d.devices, d.beforeSeq);
    await this.kv.removeItem(this.key(`hs:${conversationId}`));
  }

  /** Sends the devices just added (at `beforeSeq`) the latest messages this device decrypted before then, inside the group. */
  private async shareHistory(conversationId: string, devices: { userId: string; deviceId: string }[], beforeSeq: number): Promise<void> {
    const past = (await this.getMessages(conversationId)).filter((m) => m.seq < beforeSeq && !m.sharedBy).slice(-(this.options.shareHistory ?? 0));
    let chunk: DecryptedMessage[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length) await this.sendInGroup(conversationId, { history: { from: this.deviceId, for: devices, messages: chunk } } satisfies SharedHistory);
      chunk = [];
      bytes = 0;
    };
    for (const m of past) {
      const size = utf8(JSON.stringify(m)).length;
      if (size > HISTORY_CHUNK_BYTES) continue;
      if (bytes + size > HISTORY_CHUNK_BYTES) await flush();
      chunk.push(m);
      bytes += size;
    }
    await flush();
  }

  /** Encrypts `body` for the group's current epoch and sends it (inside the conversation's serial queue). */
  private async sendInGroup(conversationId: string, body: unknown): Promise<Message> {
    const g = await this.loadGroup(conversationId);
    if (!g) throw new CirrusSdkError('USAGE', `This device is not in the encrypted conversation ${conversationId}`);
    const res = await createApplicationMessage(g.state, utf8(JSON.stringify(body)), await cipherSuite());
    const epoch = Number(g.state.groupContext.epoch);
    // Saved before sending: a key generation is never used twice, even if the send is retried or the app dies.
    await this.saveGroup(conversationId, res.newState, g.seq, g.keysAt);
    const data = encodeMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: res.privateMessage });
    const sent = await this.client.sendMessage({ ...this.target(conversationId), contentType: 150, content: { data, epoch } } as never);
    // This device cannot decrypt its own application messages: it marks them as its own.
    await this.setJson(`o:${conversationId}:${sent.seq}`, 1);
    return sent;
  }

  private target(conversationId: string): { recvId: string } | { groupId: string } {
    if (conversationId.startsWith('sg_')) return { groupId: conversationId.slice(3) };
    const [a, b] = conversationId.slice(3).split('_');
    return { recvId: a === this.userId ? b! : a! };
  }

  private onMembershipNotice(conversationId: string, afterMs = 0, only?: () => Promise<boolean>): void {
    const max = this.options.autoReconcileMs ?? 3000;
    if (max <= 0 || this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void (async () => {
        if (this.closed || !(await this.isMember(conversationId)) || (only && !(await only()))) return;
        await this.reconcile(conversationId);
      })().catch(() => undefined);
    }, afterMs + Math.random() * max);
    this.timers.add(t);
  }

  // ---------- sending ----------

  /**
   * Encrypts and sends content (any chat content type: text, picture with its media key, a quote, an app's custom edit or
   * reaction) as an MLS application message; resolves with the decrypted view of what was stored.
   *
   * @example
   * await e2ee.send('si_alice_bob', { contentType: 101, content: { text: 'hi' } });
   */
  send(conversationId: string, body: MessageBody): Promise<DecryptedMessage> {
    return this.serial(conversationId, async () => {
      await this.settlePending(conversationId);
      await this.catchUpInner(conversationId);
      const g = await this.loadGroup(conversationId);
      if (!g) throw new CirrusSdkError('USAGE', `This device is not in the encrypted conversation ${conversationId}`);
      if (Date.now() - g.keysAt > (this.options.rotateAfterMs ?? 7 * 86_400_000)) {
        // Rotation is a commit: done in its own turn, then the next sends go on the new epoch.
        queueMicrotask(() => void this.rotateKeys(conversationId).catch(() => undefined));
      }
      await this.shareDue(conversationId);
      const sent = await this.sendInGroup(conversationId, body);
      const mine: DecryptedMessage = { conversationId, seq: sent.seq, senderId: this.userId, sendTime: sent.sendTime, contentType: body.contentType, content: body.content };
      await this.setJson(`p:${conversationId}:${sent.seq}`, mine);
      this.emit('message', mine);
      return mine;
    });
  }

  sendText(conversationId: string, text: string): Promise<DecryptedMessage> {
    return this.send(conversationId, { contentType: 101, content: { text } });
  }

  // ---------- receiving ----------

  /** Processes the conversation's new messages in seq order (runs by itself on pushes; call after a sync or reconnect). */
  catchUp(conversationId: string): Promise<void> {
    return this.serial(conversationId, async () => {
      await this.catchUpInner(conversationId);
      await this.shareDue(conversationId);
    });
  }

  private async catchUpInner(conversationId: string, upTo = Number.MAX_SAFE_INTEGER): Promise<void> {
    for (;;) {
      const g = await this.getJson<StoredGroup>(`g:${conversationId}`);
      const from = (g ? g.seq : await this.scanned(conversationId)) + 1;
      if (from > upTo) return;
      const toSeq = Math.min(upTo, from + WELCOME_WINDOW - 1);
      let res;
      try {
        res = await this.client.pullMessages({ conversationId, fromSeq: from, toSeq });
      } catch (err) {
        // A conversation not started yet, or one this user has left: nothing (more) to read.
        if (['CONVERSATION_NOT_FOUND', 'NOT_GROUP_MEMBER'].includes((err as CirrusSdkError).reason)) return;
        throw err;
      }
      const firstPending = res.pending.length ? Math.min(...res.pending) : Number.MAX_SAFE_INTEGER;
      let joined = false;
      for (const m of [...res.messages].sort((a, b) => a.seq - b.seq)) {
        if (m.seq >= firstPending) break;
        if ((await this.handle(m)) === 'joined') {
          // The group starts after its commit: read again from there with the new state.
          joined = true;
          break;
        }
        await this.advance(conversationId, m.seq);
      }
      if (joined) continue;
      // Holes and messages alike are done up to here (a pending seq blocks what follows it: order matters).
      await this.advance(conversationId, Math.min(res.toSeq, firstPending - 1));
      if (res.pending.length) {
        this.retryLater(conversationId);
        return;
      }
      if (res.truncated) continue;
      if (res.toSeq < toSeq || toSeq >= upTo) return;
    }
  }

  private retryLater(conversationId: string): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.catchUp(conversationId).catch(() => undefined);
    }, 2000);
    this.timers.add(t);
  }

  private async advance(conversationId: string, seq: number): Promise<void> {
    const g = await this.getJson<StoredGroup>(`g:${conversationId}`);
    if (g) {
      if (seq > g.seq) await this.setJson(`g:${conversationId}`, { ...g, seq });
    } else if (seq > (await this.scanned(conversationId))) {
      await this.setJson(`s:${conversationId}`, seq);
    }
  }

  private async handle(m: Message): Promise<'joined' | void> {
    const conversationId = m.conversationId;
    const content = m.content as { data?: string; epoch?: number; commitSeq?: number; devices?: { userId: string; deviceId: string }[] } | null;
    if (m.contentType === 152) {
      if (Array.isArray(content?.devices)) await this.welcomed(conversationId, content.devices);
      if ((this.options.shareHistory ?? 0) > 0 && Array.isArray(content?.devices)) await this.noteNewSiblings(conversationId, content.devices, content.commitSeq ?? m.seq);
      if (!content?.data || !content.devices?.some((d) => d.userId === this.userId && d.deviceId === this.deviceId)) return;
      if (await this.isMember(conversationId)) return;
      return (await this.join(conversationId, content.data, content.commitSeq ?? m.seq)) ? 'joined' : undefined;
    }
    if (m.contentType !== 150 && m.contentType !== 151) return;
    const g = await this.loadGroup(conversationId);
    const own = async () => (await this.getJson(`o:${conversationId}:${m.seq}`)) !== undefined || (await this.getJson(`p:${conversationId}:${m.seq}`)) !== undefined;
    if (!g || !content?.data) {
      if (m.contentType === 150 && !(await own())) this.emit('undecryptable', { conversationId, seq: m.seq, reason: g ? 'no content' : 'not a member' });
      return;
    }
    if (await own()) return; // sent by this device
    const epoch = Number(g.state.groupContext.epoch);
    if (m.contentType === 151) {
      const pc = await this.getJson<PendingCommit>(`pc:${conversationId}`);
      if (pc && content.data === pc.commit) {
        // This device's own commit: the first copy found on its epoch takes it (the state the commit leads to).
        if (pc.commitSeq === undefined && pc.epoch === epoch && content.epoch === epoch) {
          const next = decodeState(pc.state);
          await this.saveGroup(conversationId, next, g.seq, Date.now());
          await this.setJson(`pc:${conversationId}`, { ...pc, commitSeq: m.seq } satisfies PendingCommit);
          this.emit('epochChanged', { conversationId, epoch: Number(next.groupContext.epoch) });
        }
        return;
      }
      if (content.epoch !== epoch) return; // a commit that lost its epoch to an earlier one, or one of this device's own
    }
    let decoded;
    try {
      decoded = decodeMessage(content.data);
    } catch {
      this.emit('undecryptable', { conversationId, seq: m.seq, reason: 'not an MLS message' });
      return;
    }
    if (decoded.wireformat !== 'mls_private_message' && decoded.wireformat !== 'mls_public_message') return;
    try {
      const res = await processMessage(decoded as never, g.state, emptyPskIndex, acceptAll, await cipherSuite());
      if (res.kind === 'applicationMessage') {
        await this.saveGroup(conversationId, res.newState, g.seq, g.keysAt);
        const body = JSON.parse(fromUtf8(res.message)) as { contentType: number; content: unknown } | SharedHistory;
        if ('history' in body) {
          await this.importHistory(conversationId, m, body);
          return;
        }
        const out: DecryptedMessage = { conversationId, seq: m.seq, senderId: m.senderId, sendTime: m.sendTime, contentType: body.contentType, content: body.content };
        await this.setJson(`p:${conversationId}:${m.seq}`, out);
        this.emit('message', out);
        return;
      }
      if (res.newState.groupActiveState.kind === 'removedFromGroup') {
        await this.kv.removeItem(this.key(`g:${conversationId}`));
        await this.setJson(`s:${conversationId}`, m.seq);
        this.emit('removed', { conversationId });
        return;
      }
      await this.saveGroup(conversationId, res.newState, g.seq, m.contentType === 151 ? Date.now() : g.keysAt);
      if (m.contentType === 151) await this.awaitWelcomes(conversationId, g.state, res.newState);
      if (Number(res.newState.groupContext.epoch) !== epoch) this.emit('epochChanged', { conversationId, epoch: Number(res.newState.groupContext.epoch) });
    } catch (err) {
      this.emit('undecryptable', { conversationId, seq: m.seq, reason: (err as Error).message || String(err) });
    }
  }

  /** Keeps the history another member's device shared with this one when it joined (only with the `shareHistory` option). */
  private async importHistory(conversationId: string, m: Message, body: SharedHistory): Promise<void> {
    // From a device of this user only: another member's device could hold what this user never could (it joined later).
    if (!((this.options.shareHistory ?? 0) > 0) || m.senderId !== this.userId) return;
    if (!Array.isArray(body.history?.for) || !body.history.for.some((d) => d.userId === this.userId && d.deviceId === this.deviceId)) return;
    const joinedAt = (await this.getJson<number>(`j:${conversationId}`)) ?? 0;
    const sharedBy = `${m.senderId}/${String(body.history.from)}`;
    for (const h of Array.isArray(body.history.messages) ? body.history.messages : []) {
      // Only what came before this device joined, and never over a message it read itself.
      if (!Number.isInteger(h?.seq) || h.seq >= joinedAt || (await this.getJson(`p:${conversationId}:${h.seq}`))) continue;
      const out: DecryptedMessage = { conversationId, seq: h.seq, senderId: String(h.senderId), sendTime: Number(h.sendTime), contentType: Number(h.contentType), content: h.content, sharedBy };
      await this.setJson(`p:${conversationId}:${h.seq}`, out);
      this.emit('message', out);
    }
  }

  /** Notes the devices another device's commit added: their Welcome should follow (see `welcomeTimeoutMs`). */
  private async awaitWelcomes(conversationId: string, before: ClientState, after: ClientState): Promise<void> {
    const had = new Set(leavesOf(before).map((l) => `${l.userId}/${l.deviceId}`));
    const added = leavesOf(after).filter((l) => !had.has(`${l.userId}/${l.deviceId}`));
    if (!added.length) return;
    const waiting = (await this.getJson<Record<string, number>>(`aw:${conversationId}`)) ?? {};
    for (const l of added) waiting[`${l.userId}/${l.deviceId}`] = Date.now();
    await this.setJson(`aw:${conversationId}`, waiting);
    // With autoReconcileMs, this device looks again once the Welcomes are overdue, and reconciles if one still is.
    this.onMembershipNotice(conversationId, (this.options.welcomeTimeoutMs ?? 600_000) + 100, async () => (await this.stranded(conversationId)).size > 0);
  }

  private async welcomed(conversationId: string, devices: { userId: string; deviceId: string }[]): Promise<void> {
    const waiting = await this.getJson<Record<string, number>>(`aw:${conversationId}`);
    if (!waiting) return;
    for (const d of devices) delete waiting[`${d.userId}/${d.deviceId}`];
    if (Object.keys(waiting).length) await this.setJson(`aw:${conversationId}`, waiting);
    else await this.kv.removeItem(this.key(`aw:${conversationId}`));
  }

  /** Devices in the group whose Welcome never came within `welcomeTimeoutMs`: they cannot read, and are added again. */
  private async stranded(conversationId: string): Promise<Set<string>> {
    const waiting = (await this.getJson<Record<string, number>>(`aw:${conversationId}`)) ?? {};
    const limit = this.options.welcomeTimeoutMs ?? 600_000;
    return new Set(Object.entries(waiting).filter(([, at]) => Date.now() - at > limit).map(([k]) => k));
  }

  private async join(conversationId: string, data: string, commitSeq: number): Promise<boolean> {
    const decoded = decodeMessage(data);
    if (decoded.wireformat !== 'mls_welcome') return false;
    const refs = new Set(decoded.welcome.secrets.map((s) => toHex(s.newMember)));
    const prefix = this.key('kp:');
    for (const k of await this.kv.getAllKeys()) {
      if (!k.startsWith(prefix) || !refs.has(k.slice(prefix.length))) continue;
      const stored = JSON.parse((await this.kv.getItem(k))!) as StoredKeyPackage;
      const pub = decodeMessage(stored.pub);
      if (pub.wireformat !== 'mls_key_package') continue;
      const kp: KeyPackage = pub.keyPackage;
      if ((await keyPackageRef(kp)) !== k.slice(prefix.length)) continue;
      const priv: PrivateKeyPackage = { initPrivateKey: fromBase64(stored.init), hpkePrivateKey: fromBase64(stored.hpke), signaturePrivateKey: this.keys.signKey };
      try {
        const state = await joinGroup(decoded.welcome, kp, priv, emptyPskIndex, await cipherSuite());
        if (fromUtf8(state.groupContext.groupId) !== conversationId) return false;
        await this.saveGroup(conversationId, state, commitSeq, Date.now());
        await this.setJson(`j:${conversationId}`, commitSeq);
        if (!stored.lastResort) await this.kv.removeItem(k);
        this.emit('joined', { conversationId, epoch: Number(state.groupContext.epoch) });
        void this.replenish().catch(() => undefined);
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** A media file encrypted for an encrypted conversation: upload `data`; send `key` and `iv` inside the MLS application message. */
export interface EncryptedMedia {
  data: Uint8Array;
  /** AES-256-GCM key, base64 (a fresh one per file). */
  key: string;
  /** The 12-byte nonce, base64. */
  iv: string;
}

/**
 * Encrypts a file before it is uploaded to the media store (AES-256-GCM through the platform's Web Crypto), so the media store
 * holds only ciphertext; the key travels in the encrypted message that references the object.
 *
 * @example
 * const enc = await encryptMedia(bytes);
 * const up = await client.media.upload(new Blob([enc.data]), { contentType: 'application/octet-stream' });
 * await e2ee.send(conversationId, { contentType: 102, content: { source: { objectKey: up.objectKey, mimeType: 'image/png', size: bytes.length }, key: enc.key, iv: enc.iv } } as never);
 */
export async function encryptMedia(plain: Uint8Array): Promise<EncryptedMedia> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain as Uint8Array<ArrayBuffer>));
  return { data, key: toBase64(new Uint8Array(await crypto.subtle.exportKey('raw', key))), iv: toBase64(iv) };
}

/** Decrypts a file `encryptMedia` encrypted (rejects when it was altered). */
export async function decryptMedia(data: Uint8Array, keyB64: string, ivB64: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', fromBase64(keyB64) as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(ivB64) as Uint8Array<ArrayBuffer> }, key, data as Uint8Array<ArrayBuffer>));
}
