/**
 * What the SDK does where a runtime lacks `crypto`, `atob`, `TextDecoder` or `structuredClone`
 * (React Native's Hermes): clientMsgIds, reading a token, and the memory store's copies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newClientMsgId } from '../../sdk/src/ids';
import { readToken } from '../../sdk/src/token';
import { MemoryStore } from '../../sdk/src/store/memory';

afterEach(() => vi.unstubAllGlobals());

const claims = (value: unknown) => `${Buffer.from(JSON.stringify(value)).toString('base64url')}.signature`;

describe('without crypto, atob, TextDecoder or structuredClone', () => {
  it('makes v7 UUIDs from the clock and Math.random when there is no crypto, all different', () => {
    vi.stubGlobal('crypto', undefined);
    const before = Date.now();

    const ids = Array.from({ length: 10_000 }, () => newClientMsgId());

    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it('makes v4 UUIDs with getRandomValues alone (react-native-get-random-values)', () => {
    const getRandomValues = vi.fn((bytes: Uint8Array) => bytes.fill(0xff));
    vi.stubGlobal('crypto', { getRandomValues });

    expect(newClientMsgId()).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(getRandomValues).toHaveBeenCalledTimes(1);
  });

  it('reads token claims, UTF-8 included, without atob or TextDecoder; anything malformed is not a token', () => {
    vi.stubGlobal('atob', undefined);
    vi.stubGlobal('TextDecoder', undefined);
    const exp = 2_000_000_000;

    expect(readToken(claims({ kind: 'user', sub: 'zoë-😀', plt: 1, exp }))).toEqual({ userId: 'zoë-😀', platformId: 1, expiresAt: exp * 1000 });
    // Standard base64 with padding reads too.
    expect(readToken(`${Buffer.from(JSON.stringify({ kind: 'user', sub: 'ab?', plt: 2, exp })).toString('base64')}.s`)).toMatchObject({ userId: 'ab?' });
    expect(readToken('not*base64.sig')).toBeUndefined();
    expect(readToken(`${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}.sig`)).toBeUndefined();
    expect(readToken(claims({ kind: 'admin', sub: 'x', plt: 1, exp }))).toBeUndefined();
  });

  it('keeps copies in the memory store without structuredClone', async () => {
    vi.stubGlobal('structuredClone', undefined);
    const store = new MemoryStore();
    await store.putConversation({ conversationId: 'si_a_b', maxSeq: 1, readSeq: 0, minSeq: 0, syncedSeq: 1, pendingSeqs: [], unread: 1 });

    const read = (await store.getConversation('si_a_b'))!;
    read.pendingSeqs.push(5);

    expect((await store.getConversation('si_a_b'))!.pendingSeqs).toEqual([]);
  });
});
