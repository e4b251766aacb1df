/**
 * Who is acting, and from where. Every use case that checks authority or records
 * `by` in the audit trail takes an Actor: a signed-in user (from the verified
 * token's record) or an operator (the CLI, which can already write to the
 * database and so acts with an admin's authority under a name of its own).
 */
import type { Role } from '../core/roles.js';
import type { UserRecord } from '../store/store.js';

/** A signed-in user, as stored when their token was verified. */
export interface UserActor {
  kind: 'user';
  id: string;
  username: string;
  role: Role;
}

/** Someone at the database's side (the CLI), named in the audit trail by `name`. */
export interface OperatorActor {
  kind: 'operator';
  name: string;
}

/** Who is acting. */
export type Actor = UserActor | OperatorActor;

/** Where a call comes from: recorded in the audit trail, and the address is counted for throttling. */
export interface RequestContext {
  /** The client address (Fastify's request.ip, which honours GATEKEEPER_TRUST_PROXY). */
  ip?: string | null;
  /** The client's User-Agent header, recorded (bounded) with a new login session. */
  userAgent?: string | null;
  /** Who acts, when that is someone else than the account concerned (admin routes, the CLI). */
  actor?: Actor | null;
}

/**
 * The actor for a signed-in user.
 * @example userActor(principal.user)
 */
export function userActor(user: Pick<UserRecord, 'id' | 'username' | 'role'>): UserActor {
  return { kind: 'user', id: user.id, username: user.username, role: user.role };
}

/**
 * The actor for an operator.
 * @example operatorActor('gatekeeper-cli')
 */
export function operatorActor(name: string): OperatorActor {
  return { kind: 'operator', name };
}

/** Whether the actor may do what admins may: an admin user, or any operator. */
export function hasAdminAuthority(actor: Actor | null | undefined): boolean {
  if (!actor) return false;
  return actor.kind === 'operator' || actor.role === 'admin';
}

/** The name the audit trail records as `by`: the user's username or the operator's name; null for nobody. */
export function actorName(actor: Actor | null | undefined): string | null {
  if (!actor) return null;
  return actor.kind === 'operator' ? actor.name : actor.username;
}
