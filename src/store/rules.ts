/**
 * What every store enforces the same way, so the memory store and the PostgreSQL
 * store cannot drift apart: the error each broken rule throws (code and text), the
 * values a new user gets when the caller leaves them out, and the last-admin rule.
 * The stores decide *how* to check atomically (a Map in one synchronous step, a
 * transaction under an advisory lock); this module decides *what* holds.
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '../core/roles.js';
import { GatekeeperError } from '../errors.js';
import type { NewOAuthClient, OAuthClientRecord } from './contract/clients.js';
import type { NewUser, UserPatch, UserRecord } from './contract/users.js';
import type { Clock } from './store.js';

/** The default clock of both stores; tests pass their own (test/support/clock.ts). */
export const systemClock: Clock = () => new Date();

export function usernameTaken(): GatekeeperError {
  return new GatekeeperError('USERNAME_TAKEN', 'That username is already taken.');
}

export function emailTaken(): GatekeeperError {
  return new GatekeeperError('EMAIL_TAKEN', 'That email address is already registered.');
}

/** An import that repeats an existing id: reported as a taken username, the nearest code callers handle. */
export function idTaken(): GatekeeperError {
  return new GatekeeperError('USERNAME_TAKEN', 'A user with that id already exists.');
}

export function lastAdmin(): GatekeeperError {
  return new GatekeeperError('LAST_ADMIN', 'This would leave no active admin.');
}

export function insufficientBalance(): GatekeeperError {
  return new GatekeeperError('INSUFFICIENT_BALANCE', 'The balance cannot go below zero.');
}

export function clientIdTaken(): GatekeeperError {
  return new GatekeeperError('CLIENT_ID_TAKEN', 'A client with that client id already exists.');
}

/** The defaults of a new user (the seed's column defaults, 0001_users.sql). */
export const NEW_USER_DEFAULTS = {
  role: 'regular',
  email: null,
  profilePictureUrl: null,
  yapcoinBalance: 0,
  isActive: true,
} as const satisfies Partial<UserRecord>;

/**
 * The complete record of a user about to be created: the caller's fields, the
 * defaults for the rest, a fresh id and `now` for the times unless an import gave them.
 */
export function completeNewUser(input: NewUser, now: Date): UserRecord {
  const createdAt = input.createdAt ?? now;
  return {
    id: input.id ?? randomUUID(),
    username: input.username,
    passwordHash: input.passwordHash,
    role: input.role ?? NEW_USER_DEFAULTS.role,
    email: input.email ?? NEW_USER_DEFAULTS.email,
    // Nobody's address is confirmed at creation: verification is a step of its own.
    emailVerified: false,
    profilePictureUrl: input.profilePictureUrl ?? NEW_USER_DEFAULTS.profilePictureUrl,
    yapcoinBalance: input.yapcoinBalance ?? NEW_USER_DEFAULTS.yapcoinBalance,
    isActive: input.isActive ?? NEW_USER_DEFAULTS.isActive,
    createdAt,
    updatedAt: input.updatedAt ?? createdAt,
    metadata: structuredClone(input.metadata ?? {}),
  };
}

/** Only active admins count towards "at least one admin remains". */
export function isActiveAdmin(user: { role: Role | string; isActive: boolean }): boolean {
  return user.role === 'admin' && user.isActive;
}

/** Whether a patch could lower the number of active admins at all (so a store knows to take its lock). */
export function mayDemote(patch: UserPatch): boolean {
  return patch.role !== undefined || patch.isActive !== undefined;
}

/** True when `user` is an active admin now and would not be after `patch` (deletion: pass `null`). */
export function demotesActiveAdmin(user: { role: Role | string; isActive: boolean }, patch: UserPatch | null): boolean {
  if (!isActiveAdmin(user)) return false;
  if (patch === null) return true;
  return !isActiveAdmin({ role: patch.role ?? user.role, isActive: patch.isActive ?? user.isActive });
}

/**
 * The last-admin rule: a change that demotes an active admin is refused unless
 * another active admin remains. `activeAdmins` counts the one being demoted.
 * @throws LAST_ADMIN
 */
export function refuseLastAdmin(activeAdmins: number): void {
  if (activeAdmins <= 1) throw lastAdmin();
}

/** The complete record of a client about to be created: empty lists, not first-party, a fresh id. */
export function completeNewOAuthClient(input: NewOAuthClient): OAuthClientRecord {
  return {
    id: input.id ?? randomUUID(),
    clientId: input.clientId,
    name: input.name,
    secretHash: input.secretHash,
    redirectUris: [...(input.redirectUris ?? [])],
    grantTypes: [...(input.grantTypes ?? [])],
    firstParty: input.firstParty ?? false,
    createdAt: input.createdAt,
    secretRotatedAt: null,
    createdBy: input.createdBy ?? null,
  };
}

/** A rotation's new expiry, never past the session's absolute end (GATEKEEPER_SESSION_MAX_DAYS). */
export function clampToAbsoluteEnd(expiresAt: Date, absoluteExpiresAt: Date | null): Date {
  return absoluteExpiresAt !== null && absoluteExpiresAt < expiresAt ? absoluteExpiresAt : expiresAt;
}
