/**
 * What several use-case areas do to an account: create it (validated, then
 * hashed), look it up or fail with USER_NOT_FOUND, validate profile changes, and
 * write the audit events about it with the actor's name as `by`.
 */
import type { AuditEventType } from '../core/audit-events.js';
import type { Role } from '../core/roles.js';
import { validateFields } from '../core/validation.js';
import { GatekeeperError } from '../errors.js';
import type { WorkClaim } from '../security/work-queue.js';
import type { UserRecord } from '../store/store.js';
import { actorName, type RequestContext } from './actor.js';
import { describeChanges, subjectOf } from './audit-trail.js';
import type { UseCaseDeps } from './deps.js';
import type { NewAccount, ProfileChanges } from './types.js';

/**
 * Validates, hashes and stores a new account; roles and activity as given (authority is the
 * caller's check). The hash is charged to `claims` (the client address: its fair share of the queue).
 */
export async function createAccount(
  deps: UseCaseDeps,
  account: NewAccount,
  claims: readonly WorkClaim[] = [],
): Promise<UserRecord> {
  validateFields(
    {
      username: account.username,
      email: account.email,
      password: { field: 'password', value: account.password },
      profilePictureUrl: account.profilePictureUrl,
      metadata: account.metadata,
    },
    deps.passwordPolicy,
  );
  const ticket = deps.hasher.queue.reserve(claims);
  let passwordHash: string;
  try {
    // Fail fast on a taken name before spending a hash on it; the store's unique index stays the real guard.
    if (await deps.store.getUserByUsername(account.username)) {
      throw new GatekeeperError('USERNAME_TAKEN', 'That username is already taken.');
    }
    passwordHash = await deps.hasher.hash(account.password, ticket);
  } finally {
    ticket.release();
  }
  return deps.store.createUser({
    username: account.username,
    passwordHash,
    email: account.email ?? null,
    profilePictureUrl: account.profilePictureUrl ?? null,
    metadata: account.metadata ?? {},
    role: account.role ?? 'regular',
    isActive: account.isActive ?? true,
  });
}

/** The user of that name, or USER_NOT_FOUND. */
export async function userNamed(deps: UseCaseDeps, username: string): Promise<UserRecord> {
  return mustExist(await deps.store.getUserByUsername(username));
}

/** The record, or USER_NOT_FOUND when the store found none (e.g. deleted meanwhile). */
export function mustExist(user: UserRecord | null): UserRecord {
  if (!user) throw userNotFound();
  return user;
}

/** USER_NOT_FOUND, the one error for a username or id that names nobody. */
export function userNotFound(): GatekeeperError {
  return new GatekeeperError('USER_NOT_FOUND', 'No such user.');
}

/** The same field rules as registration, for the fields being changed. */
export function validateProfile(deps: UseCaseDeps, changes: ProfileChanges): void {
  const { username, email, profilePictureUrl, metadata } = changes;
  validateFields({ username, email, profilePictureUrl, metadata }, deps.passwordPolicy);
}

/** admin > regular > guest: a lower rank after an update is a demotion. */
export function roleRank(role: Role): number {
  return role === 'admin' ? 2 : role === 'regular' ? 1 : 0;
}

/** One audit event about `user`, at the service's now, from the context's address. */
export function recordEvent(
  deps: UseCaseDeps,
  event: AuditEventType,
  user: Pick<UserRecord, 'id' | 'username'>,
  context: RequestContext,
  detail: Record<string, unknown>,
): Promise<void> {
  return deps.audit.record({ event, at: deps.now(), ip: context.ip ?? null, ...subjectOf(user), detail });
}

/** `user.update` with before/after of what changed; nothing is recorded when nothing changed. */
export async function recordUpdate(
  deps: UseCaseDeps,
  before: UserRecord,
  after: UserRecord,
  context: RequestContext,
  sessionsRevoked = 0,
  reason?: string,
): Promise<void> {
  const changes = describeChanges(before, after);
  if (Object.keys(changes).length === 0) return;
  await recordEvent(deps, 'user.update', after, context, {
    by: actorName(context.actor),
    changes,
    ...(sessionsRevoked > 0 ? { sessions_revoked: sessionsRevoked } : {}),
    ...(reason === undefined ? {} : { reason }),
  });
}
