/**
 * GET /admin/users/search end to end: users registered through the API reach the
 * history's directory through the archive queue; q matches a user id prefix or a
 * nickname substring, case-insensitively; pages follow the cursor; the profiles are read
 * from the Users table (a ban shows at once, a nickname change once mirrored).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/cirrus';
import { admin, as, useCirrus } from '../support/harness';

// TEST_DATABASE_URL: an empty PostgreSQL database to run against instead of PGlite.
useCirrus(process.env.TEST_DATABASE_URL ? { databaseUrl: process.env.TEST_DATABASE_URL } : {});

interface Profile {
  userId: string;
  nickname?: string;
  banned?: { at: number; reason?: string };
  createdAt: number;
}

type Page = { users: Profile[]; nextCursor: string | null; error?: { reason: string; message: string } };

function search(params: Record<string, string | number>, caller = '@admin') {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return as<Page>(caller, 'GET', `/admin/users/search?${qs}`);
}

/** Every match, following nextCursor, with the size of each page. */
async function searchAll(q: string, limit?: number): Promise<{ ids: string[]; pages: number[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await search({ q, ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    ids.push(...res.body.users.map((u) => u.userId));
    pages.push(res.body.users.length);
    cursor = res.body.nextCursor;
  } while (cursor);
  return { ids, pages };
}

const people = [
  { userId: 'alice.smith', nickname: 'Alice Smith' },
  { userId: 'Alice2', nickname: 'Second Alice' },
  { userId: 'bob', nickname: 'Bobby Tables' },
  { userId: 'carol', nickname: 'Carol of the Bells' },
  { userId: 'dave', nickname: '100%_done' },
  { userId: 'erin' },
  ...Array.from({ length: 23 }, (_, i) => ({ userId: `pg-${String(i).padStart(2, '0')}`, nickname: `Pager ${i}` })),
];

beforeAll(async () => {
  const res = await admin.call('POST', '/users/register', { users: people });
  expect(res.status).toBe(200);
  expect(res.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
  // Registrations reach the directory through the archive queue.
  await eventually(async () => (await searchAll('pg-')).ids.length === 23 && (await searchAll('erin')).ids.length === 1, 30_000);
}, 60_000);

describe('admin user search', () => {
  it('should match a user id prefix, case-insensitively', async () => {
    // The order between ids differing in case follows the database's collation.
    expect((await searchAll('alice')).ids.sort()).toEqual(['Alice2', 'alice.smith']);
    expect((await searchAll('ALICE.')).ids).toEqual(['alice.smith']);
    // A prefix only: "smith" is inside alice.smith's id, but matches through the nickname.
    expect((await searchAll('lice.s')).ids).toEqual([]);
  });

  it('should match a nickname substring, case-insensitively', async () => {
    expect((await searchAll('tables')).ids).toEqual(['bob']);
    expect((await searchAll('OF THE')).ids).toEqual(['carol']);
    expect((await searchAll('smith')).ids).toEqual(['alice.smith']);
    // "alice" is both an id prefix (alice.smith, Alice2) and inside a nickname (Second Alice = Alice2): each once.
    expect((await searchAll('Alice')).ids.sort()).toEqual(['Alice2', 'alice.smith']);
  });

  it('should take % and _ literally', async () => {
    expect((await searchAll('%')).ids).toEqual(['dave']);
    expect((await searchAll('0%_d')).ids).toEqual(['dave']);
    expect((await searchAll('_')).ids).toEqual(['dave']);
  });

  it('should page through the matches with the cursor, in user id order', async () => {
    const all = await searchAll('pager', 10);
    expect(all.pages).toEqual([10, 10, 3]);
    expect(all.ids).toEqual(people.filter((p) => p.userId.startsWith('pg-')).map((p) => p.userId));
    const first = await search({ q: 'pager' });
    expect(first.body.users).toHaveLength(20);
    expect(first.body.nextCursor).not.toBeNull();
    const exact = await search({ q: 'pg-2', limit: 4 });
    expect(exact.body.users.map((u) => u.userId)).toEqual(['pg-20', 'pg-21', 'pg-22']);
    expect(exact.body.nextCursor).toBeNull();
  });

  it('should show current profiles: a ban at once, a new nickname once mirrored', async () => {
    expect((await as('@admin', 'POST', '/users/bob/ban', { reason: 'spam' })).status).toBe(200);
    const found = await search({ q: 'bob' });
    expect(found.body.users).toHaveLength(1);
    expect(found.body.users[0]).toMatchObject({ userId: 'bob', nickname: 'Bobby Tables', banned: { reason: 'spam' } });

    expect((await as('erin', 'PUT', '/users/erin', { nickname: 'Erin Quux' })).status).toBe(200);
    const renamed = await eventually(async () => {
      const r = await search({ q: 'quux' });
      return r.body.users.length === 1 ? r : false;
    });
    expect(renamed.body.users[0]).toMatchObject({ userId: 'erin', nickname: 'Erin Quux' });
  });

  it('should find nobody for a query matching nothing', async () => {
    const res = await search({ q: 'zzz-nobody' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [], nextCursor: null });
  });

  it.each([
    ['an empty q', { q: '' }, 'q'],
    ['a blank q', { q: '   ' }, 'q'],
    ['a q too long', { q: 'x'.repeat(65) }, 'q'],
    ['a limit out of range', { q: 'a', limit: 101 }, 'limit'],
    ['a cursor not from this API', { q: 'a', cursor: 'not-a-cursor' }, 'cursor'],
    ['a cursor of another list', { q: 'a', cursor: Buffer.from(JSON.stringify({ userId: 'x' })).toString('base64url') }, 'cursor'],
  ])('should refuse %s with INVALID_ARGUMENT', async (_name, params, field) => {
    const res = await search(params);
    expect(res.status).toBe(400);
    expect(res.body.error?.reason).toBe('INVALID_ARGUMENT');
    expect(res.body.error?.message.toLowerCase()).toContain(field);
  });

  it('should refuse a user token', async () => {
    const res = await search({ q: 'alice' }, 'alice.smith');
    expect(res.status).toBe(403);
    expect(res.body.error?.reason).toBe('ADMIN_REQUIRED');
  });
});
