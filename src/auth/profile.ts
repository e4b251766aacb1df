/**
 * A signed-in user's own account: profile changes and password changes. The
 * user is the actor here, so the audit trail records them as `by`.
 *
 * A valid access token is not proof of the password (it may be stolen, or a
 * session left open), so the two changes that take an account over ask again:
 * change-password always, and an email change (the address password recovery
 * will trust) unless the login is at most REAUTH_SECONDS old. Every check of
 * `current_password` counts against the account's login throttle.
 */
import { validateFields } from '../core/validation.js';
import { GatekeeperError } from '../errors.js';
import { ipKey } from '../security/throttle.js';
import type { WorkTicket } from '../security/work-queue.js';
import type { UserRecord } from '../store/store.js';
import { userActor, type RequestContext } from './actor.js';
import { mustExist, recordEvent, recordUpdate, validateProfile } from './accounts.js';
import type { UseCaseDeps } from './deps.js';
import type { EmailVerification } from './email-verification.js';
import { startSession } from './sign-in.js';
import { checkPassword } from './throttled-check.js';
import type { Principal, ProfileChanges, TokenPair } from './types.js';

/** How recent a password login must be to change the email without `current_password`. */
export const REAUTH_SECONDS = 300;

/** The self-service use cases; AuthService delegates to them. */
export class Profile {
  readonly #deps: UseCaseDeps;
  readonly #verification: EmailVerification;

  constructor(deps: UseCaseDeps, verification: EmailVerification) {
    this.#deps = deps;
    this.#verification = verification;
  }

  /**
   * Changes the principal's own profile. A new `email` needs `currentPassword`, or a
   * login within REAUTH_SECONDS (the token's auth_time), else REAUTHENTICATION_REQUIRED.
   */
  async updateProfile(
    principal: Principal,
    changes: ProfileChanges,
    context: RequestContext = {},
    currentPassword?: string,
  ): Promise<UserRecord> {
    const { store, conflicts } = this.#deps;
    validateProfile(this.#deps, changes);
    const emailChange = changes.email !== undefined && !sameEmail(changes.email, principal.user.email);
    let patch: ProfileChanges = changes;
    if (emailChange) {
      await this.#reauthenticate(principal, currentPassword, context);
      const newEmail = changes.email ?? null;
      const now = await conflicts.guard(context.ip, this.#deps.now(), () =>
        this.#verification.appliesNow(principal.user, newEmail, false),
      );
      // A waiting change: the old address stays the account's until the new one is confirmed.
      if (!now) patch = withoutEmail(changes);
    }
    const updated = mustExist(
      await conflicts.guard(context.ip, this.#deps.now(), () => store.updateUser(principal.user.id, patch)),
    );
    const actorContext = { ...context, actor: userActor(principal.user) };
    await recordUpdate(this.#deps, principal.user, updated, actorContext);
    if (emailChange) await this.#verification.emailChanged(principal.user, changes.email ?? null, actorContext, false);
    return updated;
  }

  /** Replaces the password, ends every session of the user and starts a fresh one. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    context: RequestContext = {},
  ): Promise<TokenPair> {
    const { store, hasher } = this.#deps;
    const ip = context.ip ?? null;
    const ticket = hasher.queue.reserve(ip === null ? [] : [{ key: ipKey(ip) }]);
    try {
      const user = mustExist(await store.getUserById(principal.user.id));
      await this.#checkPassword(user, currentPassword, 'change-password', context, ticket);
      validateFields({ password: { field: 'new_password', value: newPassword } }, this.#deps.passwordPolicy);
      const passwordHash = await hasher.hash(newPassword, ticket);
      const updated = mustExist(await store.updateUser(user.id, { passwordHash }));
      const revoked = await store.revokeUserSessions(user.id, 'password-changed', this.#deps.now());
      await store.voidOneTimeTokens(user.id, this.#deps.now());
      await recordEvent(this.#deps, 'password.change', user, context, {
        by: user.username,
        sessions_revoked: revoked,
      });
      return await startSession(this.#deps, updated, context);
    } finally {
      ticket.release();
    }
  }

  async #reauthenticate(principal: Principal, currentPassword: string | undefined, context: RequestContext) {
    if (currentPassword !== undefined) {
      const ip = context.ip ?? null;
      const ticket = this.#deps.hasher.queue.reserve(ip === null ? [] : [{ key: ipKey(ip) }]);
      try {
        const user = mustExist(await this.#deps.store.getUserById(principal.user.id));
        await this.#checkPassword(user, currentPassword, 'change-email', context, ticket);
      } finally {
        ticket.release();
      }
      return;
    }
    const authTime = principal.claims.auth_time;
    const age = this.#deps.now().getTime() / 1000 - (authTime ?? Number.NEGATIVE_INFINITY);
    if (age > REAUTH_SECONDS) {
      throw new GatekeeperError(
        'REAUTHENTICATION_REQUIRED',
        'Changing the email needs current_password (or a login within the last 5 minutes).',
      );
    }
  }

  /** The account's password, charged to the login throttle (./throttled-check.ts). */
  #checkPassword(
    user: UserRecord,
    password: string,
    action: 'change-password' | 'change-email',
    context: RequestContext,
    ticket: WorkTicket,
  ): Promise<void> {
    return checkPassword(this.#deps, user, password, action, context, ticket);
  }
}

function withoutEmail(changes: ProfileChanges): ProfileChanges {
  const { email: _waiting, ...rest } = changes;
  return rest;
}

/** Same address whatever the case: what the stores treat as one. */
export function sameEmail(a: string | null, b: string | null): boolean {
  return (a?.toLowerCase() ?? null) === (b?.toLowerCase() ?? null);
}
