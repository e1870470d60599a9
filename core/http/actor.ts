/**
 * Who is calling the HTTP API. A user token acts only as its user; an admin token may act
 * for anyone and passes every permission check.
 */
import { ADMIN_ACTOR } from '../domain/ids';
import { CirrusError } from '../errors';

/** An admin: the operator's name and the token's id, when the token carries them (the audit log's actor). */
export type AdminActor = { kind: 'admin'; name?: string; tokenId?: string };

export type Actor = AdminActor | { kind: 'user'; userId: string; platformId: number; sessionId?: string };

export const isAdmin = (actor: Actor): actor is AdminActor => actor.kind === 'admin';

/** The user id a user token acts as; admins have none. */
export const userIdOf = (actor: Actor): string | undefined => (actor.kind === 'user' ? actor.userId : undefined);

/** The session of a user token (what its logout ends); admins have none. */
export const sessionIdOf = (actor: Actor): string | undefined => (actor.kind === 'user' ? actor.sessionId : undefined);

/** The actor as notifications name it: the user id, or `@admin`. */
export const actorName = (actor: Actor): string => (actor.kind === 'user' ? actor.userId : ADMIN_ACTOR);

/** Refuses a user token acting for someone else. */
export function requireSelfOrAdmin(actor: Actor, userId: string): void {
  if (actor.kind === 'user' && actor.userId !== userId) throw new CirrusError('FORBIDDEN', `A token of ${actor.userId} cannot act for ${userId}`);
}
