/**
 * The SDK's copies of server facts stay equal to the server's: the generated route table,
 * the content and notification types, conversation ids, the error reasons.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSdkRoutes, sdkRoutes } from '../../scripts/sdk-routes';
import { httpRoutes } from '../../core/http/routes';
import { ContentType as ServerContentType } from '../../core/protocol/schema';
import { notificationTypes } from '../../core/protocol/notifications';
import * as serverIds from '../../core/domain/ids';
import { ContentType, NotificationType, notificationName } from '../../sdk/src/protocol';
import { routes } from '../../sdk/src/http/routes.gen';
import * as ids from '../../sdk/src/ids';
import { readToken } from '../../sdk/src/token';
import { issueToken } from '../../core/auth/tokens';

describe('the SDK contract', () => {
  it('sdk/src/http/routes.gen.ts matches the HTTP route specs (run `npm run sdk:routes`)', () => {
    expect(readFileSync('sdk/src/http/routes.gen.ts', 'utf8')).toBe(renderSdkRoutes());
  });

  it('covers every route a user token may call, and no admin-only route', () => {
    const userRoutes = httpRoutes.filter((r) => r.auth === 'user' || r.auth === 'self').map((r) => r.operationId);
    expect(Object.keys(routes)).toEqual(expect.arrayContaining(userRoutes));
    expect(Object.values(routes).some((r) => (r.auth as string) === 'admin')).toBe(false);
    expect(sdkRoutes.length).toBe(Object.keys(routes).length);
  });

  it('numbers content types and notifications as the server does', () => {
    expect(ContentType).toEqual(ServerContentType);
    expect(NotificationType).toEqual(Object.fromEntries(Object.entries(notificationTypes).map(([name, t]) => [name, t.contentType])));
    expect(notificationName(1507)).toBe('groupMembersKicked');
    expect(notificationName(101)).toBeUndefined();
  });

  it('forms conversation ids as the server does', () => {
    for (const [a, b] of [['alice', 'bob'], ['bob', 'alice'], ['a.b', 'a-b']]) expect(ids.singleConversationId(a, b)).toBe(serverIds.singleConversationId(a, b));
    expect(ids.groupConversationId('team')).toBe(serverIds.groupConversationId('team'));
    expect(ids.notificationConversationId('alice')).toBe(serverIds.notificationConversationId('alice'));
  });

  it('reads the user, platform and expiry of a server-issued token, and nothing from an admin token', () => {
    const token = issueToken({ kind: 'user', sub: 'alice', plt: 2, sid: 's', iat: 1, exp: 2_000_000_000 }, 'key');
    const admin = issueToken({ kind: 'admin', sub: 'admin', iat: 1, exp: 2_000_000_000 }, 'key');

    expect(readToken(token)).toEqual({ userId: 'alice', platformId: 2, expiresAt: 2_000_000_000_000 });
    expect(readToken(admin)).toBeUndefined();
    expect(readToken('garbage')).toBeUndefined();
  });
});
