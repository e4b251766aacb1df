/**
 * Managing other people's accounts (the admin routes and the CLI): listing,
 * creating, changing, resetting passwords, deleting, ending sessions, yapcoin
 * balances, counts and the audit trail. Authority is checked before these are
 * called (the admin routes' hook; the CLI is an operator); the actor in the
 * context is who the audit trail records as `by`.
 */
import { validateFields } from '../core/validation.js';
import { invalidField } from '../errors.js';
import { throttleKeys } from '../security/throttle.js';
import type { AuditEventRecord, UserPage, UserRecord, UserStats } from '../store/store.js';
import { actorName, type Actor, type RequestContext } from './actor.js';
import {
  mustExist,
  recordEvent,
  recordUpdate,
  roleRank,
  userNamed,
  userNotFound,
  validateProfile,
} from './accounts.js';
import type { UseCaseDeps } from './deps.js';
import type { EmailVerification } from './email-verification.js';
import { sameEmail } from './profile.js';
import type { SessionNotices } from './session-notices.js';
import type { SignIn } from './sign-in.js';
import type { AdminChanges, AuditQueryInput, NewAccount, UserListQuery } from './types.js';

/** The largest `skip` of a user list: far past any real user count, and well inside what every store can page. */
export const SKIP_MAX = 1_000_000_000;

/** The largest yapcoin balance: the seed's `yapcoin_balance INTEGER` column (kept as it is). */
export const BALANCE_MAX = 2_147_483_647;

function balanceTooLarge() {
  return invalidField('delta', `The balance cannot go above ${BALANCE_MAX}.`);
}

/** The administration use cases; AuthService delegates to them. */
export class Administration {
  readonly #deps: UseCaseDeps;
  readonly #signIn: SignIn;
  readonly #verification: EmailVerification;
  readonly #notices: SessionNotices | null;

  constructor(
    deps: UseCaseDeps,
    signIn: SignIn,
    verification: EmailVerification,
    notices: SessionNotices | null = null,
  ) {
    this.#deps = deps;
    this.#signIn = signIn;
    this.#verification = verification;
    this.#notices = notices;
  }

  /** VALIDATION_ERROR for a skip or limit no store could page by (the schema's coercion lets "Infinity" through). */
  async listUsers(query: UserListQuery): Promise<UserPage> {
    if (!Number.isSafeInteger(query.skip) || query.skip < 0 || query.skip > SKIP_MAX) {
      throw invalidField('skip', `Skip must be a whole number from 0 to ${SKIP_MAX}.`);
    }
    if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > 1000) {
      throw invalidField('limit', 'Limit must be a whole number from 1 to 1000.');
    }
    return this.#deps.store.listUsers(query);
  }

  /** Registration with the actor's authority: any role, and open even when self-registration is closed. */
  createUser(account: NewAccount, context: RequestContext & { actor: Actor }): Promise<UserRecord> {
    return this.#signIn.register(account, context);
  }

  getUser(username: string): Promise<UserRecord> {
    return userNamed(this.#deps, username);
  }

  /** Demotion and deactivation end the user's sessions at once. */
  async updateUser(username: string, changes: AdminChanges, context: RequestContext = {}): Promise<UserRecord> {
    const { store } = this.#deps;
    const user = await this.getUser(username);
    validateProfile(this.#deps, changes);
    const emailChange = changes.email !== undefined && !sameEmail(changes.email, user.email);
    const vouched = changes.emailVerified === true;
    if (vouched && (changes.email === undefined ? user.email : changes.email) === null) {
      throw invalidField('email_verified', 'the account has no email address to mark verified');
    }
    let patch: AdminChanges = changes;
    if (emailChange && !(await this.#verification.appliesNow(user, changes.email ?? null, vouched))) {
      // As for the user's own change: the new address waits for its confirmation.
      const { email: _waiting, ...rest } = changes;
      patch = rest;
    }
    const updated = mustExist(await store.updateUser(user.id, patch));
    const demoted = changes.role !== undefined && roleRank(changes.role) < roleRank(user.role);
    const deactivated = changes.isActive === false && user.isActive;
    let revoked = 0;
    if (demoted || deactivated) {
      revoked = await store.revokeUserSessions(user.id, deactivated ? 'deactivated' : 'role-changed', this.#deps.now());
    }
    await recordUpdate(this.#deps, user, updated, context, revoked);
    if (emailChange) await this.#verification.emailChanged(user, changes.email ?? null, context, vouched);
    return updated;
  }

  /** Admin password reset (CLI): validates, hashes, ends every session. */
  async setPassword(username: string, password: string, context: RequestContext = {}): Promise<void> {
    const { store, hasher } = this.#deps;
    const user = await this.getUser(username);
    validateFields({ password: { field: 'password', value: password } }, this.#deps.passwordPolicy);
    await store.updateUser(user.id, { passwordHash: await hasher.hash(password) });
    const revoked = await store.revokeUserSessions(user.id, 'password-reset', this.#deps.now());
    // A reset link mailed before must not undo what the admin just set.
    await store.voidOneTimeTokens(user.id, this.#deps.now());
    await recordEvent(this.#deps, 'password.change', user, context, {
      by: actorName(context.actor),
      reset: true,
      sessions_revoked: revoked,
    });
  }

  async deleteUser(username: string, context: RequestContext = {}): Promise<void> {
    const user = await this.getUser(username);
    // The store deletes the user's sessions with the user, so their tokens die with it.
    if (!(await this.#deps.store.deleteUser(user.id))) throw userNotFound();
    await recordEvent(this.#deps, 'user.delete', user, context, { by: actorName(context.actor), role: user.role });
  }

  /** Ends every session of the user; gives how many were ended. */
  async revokeTokens(username: string, context: RequestContext = {}): Promise<number> {
    const user = await this.getUser(username);
    const count = await this.#deps.store.revokeUserSessions(user.id, 'admin-revoked', this.#deps.now());
    await recordEvent(this.#deps, 'tokens.revoke', user, context, { by: actorName(context.actor), sessions: count });
    this.#notices?.allSessionsEnded(user, count);
    return count;
  }

  /**
   * Clears the account's failed-login counter on every instance (its username and email
   * share one key), so a locked-out owner can log in at once; audited as `user.unlock`.
   */
  async unlockUser(username: string, context: RequestContext = {}): Promise<void> {
    const user = await this.getUser(username);
    await this.#deps.throttle.clear(throttleKeys(user.username, null).account);
    await recordEvent(this.#deps, 'user.unlock', user, context, { by: actorName(context.actor) });
  }

  /**
   * Adds `delta` (negative: takes) atomically; INSUFFICIENT_BALANCE from the store below
   * zero, VALIDATION_ERROR when the delta or the balance would leave the seed's INTEGER
   * column (±2^31 − 1), the same on every store.
   */
  async addYapcoins(username: string, delta: number): Promise<{ username: string; balance: number }> {
    const { store } = this.#deps;
    if (!Number.isSafeInteger(delta) || Math.abs(delta) > BALANCE_MAX) {
      throw invalidField('delta', `Delta must be a whole number between -${BALANCE_MAX} and ${BALANCE_MAX}.`);
    }
    const user = await this.getUser(username);
    if (user.yapcoinBalance + delta > BALANCE_MAX) throw balanceTooLarge();
    let balance: number | null;
    try {
      balance = await store.addToBalance(user.id, delta);
    } catch (err) {
      // A concurrent add got there first: PostgreSQL refuses the overflow (22003, numeric value out of
      // range), which its store passes on untranslated; it is still the caller's number, not a fault.
      if ((err as { code?: unknown }).code === '22003') throw balanceTooLarge();
      throw err;
    }
    if (balance === null) throw userNotFound();
    if (balance > BALANCE_MAX) {
      // The memory store has no column to refuse it: take the delta back, as PostgreSQL would not have added it.
      await store.addToBalance(user.id, -delta);
      throw balanceTooLarge();
    }
    return { username: user.username, balance };
  }

  async stats(): Promise<UserStats & { activeSessions: number }> {
    const { store } = this.#deps;
    const [users, activeSessions] = await Promise.all([store.userStats(), store.countActiveSessions(this.#deps.now())]);
    return { ...users, activeSessions };
  }

  /** The audit trail, newest first. */
  async listAuditEvents(query: AuditQueryInput): Promise<AuditEventRecord[]> {
    const { store } = this.#deps;
    const holder = query.user === undefined ? null : await store.getUserByUsername(query.user);
    return store.listAuditEvents({
      ...(query.user === undefined ? {} : { username: query.user }),
      ...(holder ? { userId: holder.id } : {}),
      ...(query.event === undefined ? {} : { event: query.event }),
      ...(query.since === undefined ? {} : { since: query.since }),
      limit: query.limit,
    });
  }
}
