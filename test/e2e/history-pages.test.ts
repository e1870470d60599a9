/**
 * History pages that would not fit in one Data API response: AWS fails a response above
 * 1 MiB (the local Data API does too), so the history and the searches cut their pages by
 * bytes and page on through the rest, whatever `limit` asks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/cirrus';
import { admin, as, cirrus, useCirrus } from '../support/harness';
import { MAX_CONTENT_BYTES } from '../../core/protocol/schema';

useCirrus();

const COUNT = 200;
let conversationId: string;

/** A text of the largest size a message may carry, with quotes and backslashes (which the response escapes twice). */
function bigText(i: number): string {
  const unit = `big${i} "quoted" back\\slash words `;
  let text = '';
  while (JSON.stringify({ text: text + unit }).length <= MAX_CONTENT_BYTES) text += unit;
  return text;
}

interface Page {
  messages: { seq: number; content: { text: string } }[];
  nextBeforeSeq: number | null;
}

beforeAll(async () => {
  await admin.register('hp-ann', 'hp-bob');
  const sends: Promise<{ status: number; body: { conversationId: string } }>[] = [];
  for (let i = 0; i < COUNT; i++) {
    sends.push(as('@admin', 'POST', '/messages', { sendId: 'hp-ann', recvId: 'hp-bob', contentType: 101, content: { text: bigText(i) } }));
    if (sends.length % 10 === 0) await Promise.all(sends.slice(-10));
  }
  const acks = await Promise.all(sends);
  expect(acks.filter((a) => a.status !== 200)).toEqual([]);
  conversationId = acks[0].body.conversationId;
  await eventually(async () => {
    const [{ n }] = await cirrus.dataApi.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1`, [conversationId]);
    return n === COUNT;
  }, 60_000);
}, 180_000);

describe('a history of 200 messages of 16 KB', () => {
  it('pages through every message exactly once with limit=200, newest first, no page over the response limit', async () => {
    // Act
    const pages: Page[] = [];
    let beforeSeq: number | null | undefined;
    do {
      const res = await as<Page>('hp-ann', 'GET', `/conversations/${conversationId}/messages?limit=200${beforeSeq ? `&beforeSeq=${beforeSeq}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body);
      beforeSeq = res.body.nextBeforeSeq;
    } while (beforeSeq !== null && pages.length < COUNT);

    // Assess
    const seqs = pages.flatMap((p) => p.messages.map((m) => m.seq));
    expect(seqs).toEqual(Array.from({ length: COUNT }, (_, i) => COUNT - i));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.messages.length > 0)).toBe(true);
    const texts = pages.flatMap((p) => p.messages.map((m) => m.content.text));
    expect(new Set(texts.map((t) => t.split(' ')[0])).size).toBe(COUNT);
    expect(texts.every((t) => t === bigText(Number(t.slice(3, t.indexOf(' ')))))).toBe(true);
  });

  it('pages a user search and an admin search through every match with limit=100', async () => {
    // Act
    const searchAll = async (path: (cursor: string | null) => string, caller: string) => {
      const seqs: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: { messages: { seq: number }[]; nextCursor: string | null } } = await as(caller, 'GET', path(cursor));
        expect(res.status).toBe(200);
        seqs.push(...res.body.messages.map((m) => m.seq));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor !== null && pages < COUNT);
      return { seqs, pages };
    };
    const cursorParam = (cursor: string | null) => (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const user = await searchAll((c) => `/users/hp-ann/messages/search?q=quoted&limit=100${cursorParam(c)}`, 'hp-ann');
    const adminSearch = await searchAll((c) => `/admin/messages/search?conversationId=${conversationId}&limit=100${cursorParam(c)}`, '@admin');

    // Assess
    const all = Array.from({ length: COUNT }, (_, i) => COUNT - i);
    expect([...user.seqs].sort((a, b) => b - a)).toEqual(all);
    expect(user.seqs).toHaveLength(COUNT);
    expect(user.pages).toBeGreaterThan(2);
    expect([...adminSearch.seqs].sort((a, b) => b - a)).toEqual(all);
    expect(adminSearch.seqs).toHaveLength(COUNT);
  });
});
