/**
 * A user's sessions as they see them: the list of their live sessions and ending one of them
 * (GET/DELETE /auth/sessions), and the admin's view of someone's sessions. Ending a session
 * goes through store.revokeSession, which the user-state cache turns into an invalidation on
 * every instance, so its access tokens stop working everywhere at once.
 */
import { GatekeeperError } from '../errors.js';
import type { SessionRecord } from '../store/store.js';
import { actorName, type RequestContext } from './actor.js';
import { recordEvent, userNamed } from './accounts.js';
import type { UseCaseDeps } from './deps.js';
import type { SessionNotices } from './session-notices.js';
import type { Principal, SessionInfo } from './types.js';

export class Sessions {
  readonly #deps: UseCaseDeps;
  readonly #notices: SessionNotices | null;

  constructor(deps: UseCaseDeps, notices: SessionNotices | null = null) {
    this.#deps = deps;
    this.#notices = notices;
  }

  /** The principal's live sessions, oldest first; `current` marks the one of their token. */
  async listOwn(principal: Principal): Promise<SessionInfo[]> {
    const sessions = await this.#deps.store.listUserSessions(principal.user.id, this.#deps.now());
    return sessions.map((s) => toInfo(s, principal.claims.sid));
  }

  /**
   * Ends one of the principal's own live sessions. Another user's session, an ended one and an
   * id that is no session id at all are one answer, SESSION_NOT_FOUND: nobody learns which ids exist.
   */
  async revokeOwn(principal: Principal, sessionId: string, context: RequestContext = {}): Promise<void> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    const session = await store.getSession(sessionId);
    if (!session || session.userId !== principal.user.id || session.revokedAt !== null || session.expiresAt <= now) {
      throw sessionNotFound();
    }
    // Revoked between the read and here (a logout, a reuse): it has ended either way, and no row was written.
    if (!(await store.revokeSession(session.id, 'user-revoked', now))) throw sessionNotFound();
    await recordEvent(this.#deps, 'session.revoke', principal.user, context, {
      session_id: session.id,
      current: session.id === principal.claims.sid,
      by: actorName(context.actor),
    });
  }

  /**
   * "Sign out everywhere": ends every session of the principal's, this one included, on every
   * instance; audited as `tokens.revoke` by the user themselves, and mailed as the admin's revoke is.
   */
  async revokeAllOwn(principal: Principal, context: RequestContext = {}): Promise<number> {
    const { user } = principal;
    const count = await this.#deps.store.revokeUserSessions(user.id, 'user-revoked', this.#deps.now());
    await recordEvent(this.#deps, 'tokens.revoke', user, context, { by: user.username, sessions: count });
    this.#notices?.allSessionsEnded(user, count);
    return count;
  }

  /** The live sessions of the user of that name (admin routes, the CLI); USER_NOT_FOUND for none. */
  async listOfUser(username: string, currentSessionId: string | null = null): Promise<SessionInfo[]> {
    const user = await userNamed(this.#deps, username);
    const sessions = await this.#deps.store.listUserSessions(user.id, this.#deps.now());
    return sessions.map((s) => toInfo(s, currentSessionId));
  }
}

function toInfo(session: SessionRecord, currentSessionId: string | null): SessionInfo {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    ip: session.ip,
    userAgent: session.userAgent,
    current: session.id === currentSessionId,
  };
}

function sessionNotFound(): GatekeeperError {
  return new GatekeeperError('SESSION_NOT_FOUND', 'No session of yours has that id.');
}
