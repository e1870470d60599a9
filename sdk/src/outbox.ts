/**
 * Sending: a message is stored as `sending` and shown at once, then sent in order per
 * conversation (the next one waits for the previous ack, so seqs follow the order the user
 * sent in, and a device has at most one unacknowledged send per conversation, well inside
 * the server's idempotency window of the sender's last 8 sends in a 1:1 conversation).
 * A retryable failure is retried with the same `clientMsgId` (a THROTTLED one after the
 * `retryAfterMs` the server gave, up to `maxThrottleWaitMs`); a refusal marks it `failed`
 * until the app resends it. Messages still `sending` when the app stopped are sent on the
 * next connect.
 *
 * Exactly once: before an attempted message is sent again (a retry, a resend, the next
 * session), the conversation is pulled above the seq the device knew before its first
 * attempt, and a message of the user's with its clientMsgId found there is the ack. So a
 * message whose ack was lost is never stored twice, even when the user's other devices
 * sent more than the window meanwhile or the device was offline for long.
 */
import { backoffDelay, type BackoffOptions } from './backoff';
import type { Connection } from './connection';
import { Emitter } from './emitter';
import { CirrusSdkError } from './errors';
import { groupConversationId, newClientMsgId, singleConversationId } from './ids';
import type { Message, MessageBody } from './protocol';
import type { LocalStore, OutgoingMessage } from './store/store';
import type { SyncEngine } from './sync';
import type { Timers } from './timers';

/** What to send: to a user (`recvId`) or a group (`groupId`), and the content. */
export type SendInput = MessageBody & ({ recvId: string; groupId?: undefined } | { groupId: string; recvId?: undefined }) & {
  /** Reuse an id to make a retry idempotent; a fresh one is made when absent. */
  clientMsgId?: string;
};

export interface MessageStatusEvent {
  clientMsgId: string;
  conversationId: string;
  status: 'sending' | 'sent' | 'failed';
  /** The stored message, once sent. */
  message?: Message;
  /** The message on its way or failed. */
  outgoing?: OutgoingMessage;
  error?: CirrusSdkError;
  /** Still `sending` after a THROTTLED refusal: when the outbox sends it again (ms since the epoch). */
  retryAt?: number;
}

export interface OutboxOptions {
  userId: string;
  platformId: number;
  timers: Timers;
  random: () => number;
  backoff: BackoffOptions;
  /**
   * Attempts that may fail with a retryable error before the message is marked failed.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * A send refused with THROTTLED and `retryAfterMs` (sending too fast, a group's slow mode) is
   * sent again after that wait, without using up attempts, when the wait is at most this long;
   * otherwise, or with 0, it is marked failed with the error (its `retryAfterMs` says when
   * `resendMessage` can succeed).
   * @default 60000
   */
  maxThrottleWaitMs?: number;
}

export class Outbox extends Emitter<{ status: MessageStatusEvent }> {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<string>();
  private readonly waiting = new Set<(err: CirrusSdkError) => void>();
  private closed = false;

  constructor(
    private readonly connection: Connection,
    private readonly store: LocalStore,
    private readonly sync: SyncEngine,
    private readonly options: OutboxOptions,
  ) {
    super();
  }

  /** Stores the message as `sending` and sends it after the conversation's earlier ones. */
  async send(input: SendInput): Promise<Message> {
    const conversationId = input.groupId !== undefined ? groupConversationId(input.groupId) : singleConversationId(this.options.userId, input.recvId!);
    const outgoing: OutgoingMessage = {
      clientMsgId: input.clientMsgId ?? newClientMsgId(),
      conversationId,
      senderId: this.options.userId,
      ...(input.groupId !== undefined ? { groupId: input.groupId } : { recvId: input.recvId! }),
      contentType: input.contentType,
      content: input.content,
      status: 'sending',
      createdAt: this.options.timers.now(),
    };
    await this.store.putOutgoing(outgoing);
    this.emit('status', { clientMsgId: outgoing.clientMsgId, conversationId, status: 'sending', outgoing });
    return this.enqueue(outgoing);
  }

  /** Sends a failed (or stuck) message again with its clientMsgId. */
  async resend(clientMsgId: string): Promise<Message> {
    const outgoing = (await this.store.listOutgoing()).find((m) => m.clientMsgId === clientMsgId);
    if (!outgoing) throw new CirrusSdkError('USAGE', `No outgoing message ${clientMsgId} (sent already, or never stored)`);
    if (this.inFlight.has(clientMsgId)) throw new CirrusSdkError('USAGE', `Message ${clientMsgId} is being sent`);
    const retry: OutgoingMessage = { ...outgoing, status: 'sending' };
    delete retry.error;
    await this.store.putOutgoing(retry);
    this.emit('status', { clientMsgId, conversationId: retry.conversationId, status: 'sending', outgoing: retry });
    return this.enqueue(retry);
  }

  /** Sends what was still `sending` when the app last stopped (e.g. closed offline). */
  async resume(): Promise<void> {
    for (const m of await this.store.listOutgoing()) {
      if (m.status === 'sending' && !this.inFlight.has(m.clientMsgId)) this.enqueue(m).catch(() => undefined);
    }
  }

  /** Resolves at the next connect: sending waits through disconnects, kicks included, until the client is closed. */
  private waitConnected(): Promise<void> {
    if (this.closed) return Promise.reject(new CirrusSdkError('DISCONNECTED', 'The client is closed'));
    if (this.connection.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const fail = (err: CirrusSdkError) => {
        off();
        reject(err);
      };
      const off = this.connection.on('connected', () => {
        off();
        this.waiting.delete(fail);
        resolve();
      });
      this.waiting.add(fail);
    });
  }

  /** Stops sending; messages not yet sent stay `sending` in the store for the next session. */
  close(): void {
    this.closed = true;
    for (const fail of [...this.waiting]) fail(new CirrusSdkError('DISCONNECTED', 'The client is closed; the message is sent by the next session'));
    this.waiting.clear();
  }

  private enqueue(outgoing: OutgoingMessage): Promise<Message> {
    this.inFlight.add(outgoing.clientMsgId);
    const previous = this.chains.get(outgoing.conversationId) ?? Promise.resolve();
    const result = previous.then(() => this.deliver(outgoing)).finally(() => this.inFlight.delete(outgoing.clientMsgId));
    const settled = result.catch(() => undefined);
    this.chains.set(outgoing.conversationId, settled);
    void settled.then(() => {
      if (this.chains.get(outgoing.conversationId) === settled) this.chains.delete(outgoing.conversationId);
    });
    return result;
  }

  private async deliver(outgoing: OutgoingMessage): Promise<Message> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    let attempt = 0;
    for (;;) {
      try {
        await this.waitConnected();
        if (outgoing.attempted) {
          // An earlier attempt may have been stored: acknowledge it from sync rather than send it twice.
          const stored = await this.sync.findSent(outgoing.conversationId, outgoing.clientMsgId, outgoing.attempted.afterSeq);
          if (stored) {
            await this.store.deleteOutgoing(outgoing.clientMsgId);
            this.emit('status', { clientMsgId: outgoing.clientMsgId, conversationId: outgoing.conversationId, status: 'sent', message: stored });
            return stored;
          }
        } else {
          const known = await this.store.getConversation(outgoing.conversationId);
          outgoing = { ...outgoing, attempted: { afterSeq: known?.maxSeq ?? 0 } };
          await this.store.putOutgoing(outgoing);
        }
        const ack = await this.connection.request('sendMsg', {
          clientMsgId: outgoing.clientMsgId,
          ...(outgoing.groupId !== undefined ? { groupId: outgoing.groupId } : { recvId: outgoing.recvId }),
          contentType: outgoing.contentType as MessageBody['contentType'],
          content: outgoing.content,
        });
        const message: Message = {
          serverMsgId: ack.serverMsgId,
          clientMsgId: outgoing.clientMsgId,
          conversationId: ack.conversationId,
          seq: ack.seq,
          sessionType: outgoing.groupId !== undefined ? 3 : 1,
          senderId: this.options.userId,
          senderPlatformId: this.options.platformId,
          ...(outgoing.groupId !== undefined ? { groupId: outgoing.groupId } : { recvId: outgoing.recvId }),
          contentType: outgoing.contentType,
          content: outgoing.content,
          sendTime: ack.sendTime,
        };
        await this.sync.onSent(message);
        await this.store.deleteOutgoing(outgoing.clientMsgId);
        this.emit('status', { clientMsgId: outgoing.clientMsgId, conversationId: ack.conversationId, status: 'sent', message });
        return message;
      } catch (err) {
        const error = err instanceof CirrusSdkError ? err : new CirrusSdkError('USAGE', String(err), { cause: err });
        // Still `sending` in the store: the next session sends it (`resume`).
        if (this.closed) throw error;
        // A dropped connection is not the message's fault: it waits for the next one without using up attempts.
        if (error.reason === 'CONNECTION_CLOSED' || error.reason === 'DISCONNECTED') continue;
        // An earlier attempt of this message is still being written: wait for it, without using up attempts.
        if (error.reason === 'SEND_IN_PROGRESS') {
          const delay = backoffDelay(attempt + 1, this.options.backoff, this.options.random);
          await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, delay));
          continue;
        }
        // Over a limit: the server said when the same send can succeed. Nothing was stored.
        if (error.reason === 'THROTTLED' && error.retryAfterMs !== undefined) {
          if (error.retryAfterMs <= (this.options.maxThrottleWaitMs ?? 60_000)) {
            const retryAt = this.options.timers.now() + error.retryAfterMs;
            this.emit('status', { clientMsgId: outgoing.clientMsgId, conversationId: outgoing.conversationId, status: 'sending', outgoing, error, retryAt });
            await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, error.retryAfterMs!));
            continue;
          }
          attempt = maxAttempts;
        }
        attempt++;
        if (error.retryable && attempt < maxAttempts) {
          const delay = backoffDelay(attempt, this.options.backoff, this.options.random);
          await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, delay));
          continue;
        }
        const failed: OutgoingMessage = { ...outgoing, status: 'failed', error: { reason: error.reason, message: error.message } };
        await this.store.putOutgoing(failed);
        this.emit('status', { clientMsgId: outgoing.clientMsgId, conversationId: outgoing.conversationId, status: 'failed', outgoing: failed, error });
        throw error;
      }
    }
  }
}
