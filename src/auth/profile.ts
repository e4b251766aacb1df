/**
 * A signed-in user's own account: profile changes and password changes. The
 * user is the actor here, so the audit trail records them as `by`.
 */
import { validateFields } from '../core/validation.js';
import { GatekeeperError } from '../errors.js';
import type { UserRecord } from '../store/store.js';
import { userActor, type RequestContext } from './actor.js';
import { mustExist, recordEvent, recordUpdate, validateProfile } from './accounts.js';
import type { UseCaseDeps } from './deps.js';
import { startSession } from './sign-in.js';
import type { Principal, ProfileChanges, TokenPair } from './types.js';

/** The self-service use cases; AuthService delegates to them. */
export class Profile {
  readonly #deps: UseCaseDeps;

  constructor(deps: UseCaseDeps) {
    this.#deps = deps;
  }

  async updateProfile(
    principal: Principal,
    changes: ProfileChanges,
    context: RequestContext = {},
  ): Promise<UserRecord> {
    validateProfile(this.#deps, changes);
    const updated = mustExist(await this.#deps.store.updateUser(principal.user.id, changes));
    await recordUpdate(this.#deps, principal.user, updated, { ...context, actor: userActor(principal.user) });
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
    hasher.queue.admit();
    const user = mustExist(await store.getUserById(principal.user.id));
    const current = await hasher.verify(user.passwordHash, currentPassword);
    if (!current.ok) throw new GatekeeperError('INVALID_PASSWORD', 'The current password is wrong.');
    validateFields({ password: { field: 'new_password', value: newPassword } }, this.#deps.passwordPolicy);
    const passwordHash = await hasher.hash(newPassword);
    const updated = mustExist(await store.updateUser(user.id, { passwordHash }));
    const revoked = await store.revokeUserSessions(user.id, 'password-changed', this.#deps.now());
    await recordEvent(this.#deps, 'password.change', user, context, { by: user.username, sessions_revoked: revoked });
    return startSession(this.#deps, updated);
  }
}
