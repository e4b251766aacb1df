/**
 * The mails about a user's sessions (issue 14, "Notices"): every session signed out at once, and
 * (GATEKEEPER_NOTIFY_NEW_ADDRESS) a login from an address none of the user's stored sessions came
 * from. Queued on the mailer, never awaited: no answer waits on a mail server. Without a mailer or
 * an email address on the account, nothing is sent.
 */
import type { Mailer } from '../mail/mailer.js';
import type { UserRecord } from '../store/store.js';
import type { UseCaseDeps } from './deps.js';

export interface SessionNoticeOptions {
  mailer: Mailer | null;
  /** GATEKEEPER_NOTIFY_NEW_ADDRESS. */
  notifyNewAddress: boolean;
}

export class SessionNotices {
  readonly #deps: UseCaseDeps;
  readonly #options: SessionNoticeOptions;

  constructor(deps: UseCaseDeps, options: SessionNoticeOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /**
   * Whether a login of `user` from `ip` deserves the new-address mail; asked before the session is
   * stored. A first login ever is not news (the user just registered), only a new address among known ones.
   */
  async isNewAddress(user: UserRecord, ip: string | null): Promise<boolean> {
    if (!this.#options.notifyNewAddress || !this.#options.mailer || !user.email || ip === null) return false;
    const history = await this.#deps.store.sessionAddressHistory(user.id, ip);
    return history.hasSessions && !history.fromAddress;
  }

  newAddress(user: UserRecord, ip: string, userAgent: string | null, at: Date): void {
    if (!this.#options.mailer || !user.email) return;
    this.#options.mailer.send({
      to: user.email,
      template: 'new-address-login',
      values: { username: user.username, ip, userAgent: userAgent ?? 'unknown', time: at.toISOString() },
    });
  }

  /** Every session of `user` was just ended by someone else than the user (admin, operator). */
  allSessionsEnded(user: UserRecord, count: number): void {
    if (!this.#options.mailer || !user.email || count === 0) return;
    this.#options.mailer.send({
      to: user.email,
      template: 'sessions-revoked',
      values: { username: user.username, count: String(count) },
    });
  }
}
