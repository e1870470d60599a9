/**
 * Multi-device login policies (OpenIM's multi-login): which of a user's live connections a
 * new connection pushes out. Pure, so `$connect` and the tests share one decision.
 */

/** The deployment's policy (`MULTI_LOGIN_POLICY`). */
export const LOGIN_POLICIES = ['multiple', 'onePerPlatform', 'onePerClass', 'pcUnlimited'] as const;
export type LoginPolicy = (typeof LOGIN_POLICIES)[number];
export const DEFAULT_LOGIN_POLICY: LoginPolicy = 'onePerPlatform';

export const isLoginPolicy = (value: unknown): value is LoginPolicy => (LOGIN_POLICIES as readonly unknown[]).includes(value);

export type PlatformClass = 'pc' | 'mobile' | 'pad' | 'web' | 'admin';

/** Platform id → class: pc = Windows, macOS, Linux; mobile = iOS, Android, HarmonyOS; pad = AndroidPad, iPad; web = Web, MiniWeb; admin. */
const CLASS_OF: Readonly<Record<number, PlatformClass>> = {
  1: 'mobile',
  2: 'mobile',
  3: 'pc',
  4: 'pc',
  5: 'web',
  6: 'web',
  7: 'pc',
  8: 'pad',
  9: 'pad',
  10: 'admin',
  11: 'mobile',
};

/** The class of a platform id; an unknown id is a class of its own (`platform:<id>`). */
export function platformClass(platformId: number): PlatformClass | `platform:${number}` {
  return CLASS_OF[platformId] ?? `platform:${platformId}`;
}

export interface LoginConnection {
  connectionId: string;
  platformId: number;
  /** Epoch ms the connection opened, when known; used only to order concurrent connects. */
  connectedAtMs?: number;
}

/** Whether `other` connected after `conn` (so `conn` must not kick it: the newest connection wins a race). */
function isNewer(other: LoginConnection, conn: LoginConnection): boolean {
  if (other.connectedAtMs === undefined || conn.connectedAtMs === undefined) return false;
  if (other.connectedAtMs !== conn.connectedAtMs) return other.connectedAtMs > conn.connectedAtMs;
  return other.connectionId > conn.connectionId;
}

/** Whether two connections of one user may not coexist under the policy. */
export function conflicts(policy: LoginPolicy, a: number, b: number): boolean {
  switch (policy) {
    case 'multiple':
      return false;
    case 'onePerPlatform':
      return a === b;
    case 'onePerClass':
      return platformClass(a) === platformClass(b);
    case 'pcUnlimited':
      return platformClass(a) !== 'pc' && platformClass(b) !== 'pc';
  }
}

/**
 * The connections among `existing` (the user's live connections, which may include the new
 * one) that the new connection kicks. Never the new connection itself, and never one that
 * connected after it: when two connections race, the newest survives.
 */
export function connectionsToKick<C extends LoginConnection>(policy: LoginPolicy, newConnection: LoginConnection, existing: readonly C[]): C[] {
  return existing.filter(
    (c) => c.connectionId !== newConnection.connectionId && !isNewer(c, newConnection) && conflicts(policy, newConnection.platformId, c.platformId),
  );
}
