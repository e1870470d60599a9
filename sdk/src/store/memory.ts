/**
 * The local store in memory: for Node, tests, and browsers without IndexedDB. Copies on the
 * way in and out, as a database would.
 *
 * @example
 * const client = await CirrusClient.create({ wsUrl, token, store: new MemoryStore() });
 */
import type { Message } from '../protocol';
import { byCreatedAt, replaces, type LocalStore, type MessageRange, type OutgoingMessage, type StoredConversation } from './store';

// React Native has no structuredClone; what the store holds is JSON from the server.
const copy = <T>(value: T): T => (typeof structuredClone === 'function' ? structuredClone(value) : (JSON.parse(JSON.stringify(value)) as T));

export class MemoryStore implements LocalStore {
  private readonly conversations = new Map<string, StoredConversation>();
  /** conversationId → seq → message. */
  private readonly messages = new Map<string, Map<number, Message>>();
  private readonly outgoing = new Map<string, OutgoingMessage>();

  async getConversation(conversationId: string): Promise<StoredConversation | undefined> {
    const c = this.conversations.get(conversationId);
    return c && copy(c);
  }

  async listConversations(): Promise<StoredConversation[]> {
    return [...this.conversations.values()].map(copy);
  }

  async putConversation(conversation: StoredConversation): Promise<void> {
    this.conversations.set(conversation.conversationId, copy(conversation));
  }

  async putMessages(messages: readonly Message[]): Promise<Message[]> {
    const written: Message[] = [];
    for (const m of messages) {
      let bySeq = this.messages.get(m.conversationId);
      if (!bySeq) this.messages.set(m.conversationId, (bySeq = new Map()));
      if (!replaces(m, bySeq.get(m.seq))) continue;
      bySeq.set(m.seq, copy(m));
      written.push(m);
    }
    return written;
  }

  async deleteMessages(conversationId: string, seqs: readonly number[]): Promise<void> {
    const messages = this.messages.get(conversationId);
    for (const seq of seqs) messages?.delete(seq);
  }

  async getMessage(conversationId: string, seq: number): Promise<Message | undefined> {
    const m = this.messages.get(conversationId)?.get(seq);
    return m && copy(m);
  }

  async listMessages(conversationId: string, range: MessageRange = {}): Promise<Message[]> {
    const { beforeSeq = Infinity, afterSeq = 0, limit = 50 } = range;
    const all = [...(this.messages.get(conversationId)?.values() ?? [])].filter((m) => m.seq < beforeSeq && m.seq > afterSeq).sort((a, b) => a.seq - b.seq);
    return all.slice(Math.max(0, all.length - limit)).map(copy);
  }

  async putOutgoing(message: OutgoingMessage): Promise<void> {
    this.outgoing.set(message.clientMsgId, copy(message));
  }

  async deleteOutgoing(clientMsgId: string): Promise<void> {
    this.outgoing.delete(clientMsgId);
  }

  async listOutgoing(conversationId?: string): Promise<OutgoingMessage[]> {
    return [...this.outgoing.values()].filter((m) => conversationId === undefined || m.conversationId === conversationId).sort(byCreatedAt).map(copy);
  }

  async clear(): Promise<void> {
    this.conversations.clear();
    this.messages.clear();
    this.outgoing.clear();
  }

  async close(): Promise<void> {}
}
