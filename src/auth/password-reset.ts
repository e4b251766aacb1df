/**
 * Password reset by mail: `forgot` mails a one-time link to an account's address, `reset` spends
 * it for a new password. The answer of `forgot` never tells whether the account exists: the
 * same result, the same token work, and a latency floor that covers the database work only a
 * found account does (the mail itself is queued, never awaited). Tokens carry 256 random bits and
 * are stored as their SHA-256 only; a new one voids the older ones, and so does any password change.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateFields } from '../core/validation.js';
import { GatekeeperError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import { ipKey, throttleKeys } from '../security/throttle.js';
import type { UserRecord } from '../store/store.js';
import type { RequestContext } from './actor.js';
import { recordEvent } from './accounts.js';
import type { UseCaseDeps } from './deps.js';

/** Mails per account and hour at most: a flood of requests for one account sends no more. */
export const RESET_MAILS_PER_ACCOUNT_HOUR = 3;
/** Forgot requests per client address and login window (GATEKEEPER_LOGIN_WINDOW_SECONDS) before 429. */
export const DEFAULT_FORGOT_IP_MAX = 10;
/**
 * The least time a forgot request takes, found account or not. Above what the found path's few
 * statements take on a healthy database, so both answer at the floor.
 */
export const FORGOT_FLOOR_MS = 60;

const HOUR_MS = 3_600_000;
const PURPOSE = 'password_reset' as const;

/** Who asked: exactly one of the two. */
export type ForgotRequest = { email: string } | { username: string };

export interface PasswordResetOptions {
  mailer: Mailer | null;
  /** GATEKEEPER_RESET_TOKEN_MINUTES. */
  tokenMinutes: number;
  forgotIpMax?: number;
  floorMs?: number;
}

/** SHA-256 hex: what the store keeps of a token. */
export function hashResetToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class PasswordReset {
  readonly #deps: UseCaseDeps;
  readonly #options: Required<PasswordResetOptions>;

  constructor(deps: UseCaseDeps, options: PasswordResetOptions) {
    this.#deps = deps;
    this.#options = { forgotIpMax: DEFAULT_FORGOT_IP_MAX, floorMs: FORGOT_FLOOR_MS, ...options };
  }

  /**
   * Mails a reset link when the account exists, is active, has an email and is within its hourly
   * budget; resolves alike in every case (never before the floor). Throws TOO_MANY_ATTEMPTS only
   * for the client address's own limit, which says nothing about any account.
   */
  async forgot(request: ForgotRequest, context: RequestContext = {}): Promise<void> {
    const started = performance.now();
    try {
      await this.#throttleAddress(context.ip ?? null);
      // Made and hashed for every request, so the found path does no extra CPU work for it.
      const token = randomBytes(32).toString('base64url');
      const tokenHash = hashResetToken(token);
      const user = await this.#findUser(request);
      if (user && user.isActive && user.email) await this.#issue(user, user.email, token, tokenHash, context);
    } finally {
      const left = this.#options.floorMs - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  /**
   * Sets a new password with a mailed token. The policy is checked and the password hashed
   * before the token is spent, so a refused password leaves the link usable; then every session
   * of the user ends and every other token is void. INVALID_TOKEN for unknown, used or expired.
   */
  async reset(token: string, newPassword: string, context: RequestContext = {}): Promise<void> {
    const { store, hasher } = this.#deps;
    validateFields({ password: { field: 'new_password', value: newPassword } }, this.#deps.passwordPolicy);
    const ip = context.ip ?? null;
    const ticket = hasher.queue.reserve(ip === null ? [] : [{ key: ipKey(ip) }]);
    let passwordHash: string;
    try {
      passwordHash = await hasher.hash(newPassword, ticket);
    } finally {
      ticket.release();
    }
    const now = this.#deps.now();
    const spent = await store.consumeOneTimeToken(hashResetToken(token), PURPOSE, now);
    const user = spent ? await store.getUserById(spent.userId) : null;
    if (!user || !user.isActive) throw invalidToken();
    await store.updateUser(user.id, { passwordHash });
    const revoked = await store.revokeUserSessions(user.id, 'password-reset', now);
    await store.voidOneTimeTokens(user.id, now);
    // Proof of the mailbox is as good as the password: a lockout from guessing ends with it.
    // Through the throttle, so this process's cached lock of the account goes too.
    await this.#deps.throttle.clear(throttleKeys(user.username, null).account);
    await recordEvent(this.#deps, 'password.reset', user, context, { sessions_revoked: revoked });
    if (user.email && this.#options.mailer) {
      this.#options.mailer.send({ to: user.email, template: 'password-changed', values: { username: user.username } });
    }
  }

  async #throttleAddress(ip: string | null): Promise<void> {
    if (ip === null) return;
    const windowSeconds = this.#deps.throttle.policy.windowSeconds;
    const now = this.#deps.now();
    const counter = await this.#deps.store.recordLoginFailure(`forgot-${ipKey(ip)}`, now, windowSeconds);
    if (counter.count <= this.#options.forgotIpMax) return;
    const wait = Math.max(1, Math.ceil(windowSeconds - (now.getTime() - counter.firstAt.getTime()) / 1000));
    throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many password reset requests; try again later.', {
      retryAfterSeconds: wait,
    });
  }

  #findUser(request: ForgotRequest): Promise<UserRecord | null> {
    const { store } = this.#deps;
    // An address finds only by email: getUserByLogin looks an '@' up as an email (usernames have none).
    if ('email' in request) return request.email.includes('@') ? store.getUserByLogin(request.email) : noUser();
    return store.getUserByUsername(request.username);
  }

  async #issue(user: UserRecord, email: string, token: string, tokenHash: string, context: RequestContext) {
    const { store } = this.#deps;
    const now = this.#deps.now();
    const issued = await store.issueOneTimeToken(
      {
        userId: user.id,
        purpose: PURPOSE,
        tokenHash,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.#options.tokenMinutes * 60_000),
      },
      { since: new Date(now.getTime() - HOUR_MS), max: RESET_MAILS_PER_ACCOUNT_HOUR },
    );
    // Past the hourly budget: no mail and no audit row (a flood must not fill the trail either).
    if (!issued) return;
    await recordEvent(this.#deps, 'password.reset_request', user, context, { mailed: this.#options.mailer !== null });
    if (!this.#options.mailer) {
      this.#deps.log?.warn({ userId: user.id }, 'password reset requested, but this service has no mailer');
      return;
    }
    this.#options.mailer.send({
      to: email,
      template: 'password-reset',
      values: {
        username: user.username,
        link: this.#options.mailer.link(`/reset-password#token=${token}`),
        minutes: String(this.#options.tokenMinutes),
      },
    });
  }
}

function invalidToken(): GatekeeperError {
  return new GatekeeperError('INVALID_TOKEN', 'This reset link is invalid, used or expired; ask for a new one.');
}

async function noUser(): Promise<null> {
  return null;
}
