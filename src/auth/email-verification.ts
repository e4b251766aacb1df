/**
 * Email verification and confirmed email changes (docs/API.md, "Account recovery and email").
 *
 * A verification mail carries two ways to confirm one address: a link with a 256-bit token (for
 * anyone holding the mail; the link opens a page, and only the page's POST spends it, so a link
 * scanner that fetches it burns nothing) and a short code for the signed-in user to type. The
 * code is short so a person can type it, hence guessable: it is accepted only from the signed-in
 * owner, and the MAX_CODE_ATTEMPTS-th wrong code voids it (docs/SECURITY.md, "Email verification").
 * Both are stored only as SHA-256; a new mail voids the older ones.
 *
 * The token says which address it confirms. With GATEKEEPER_REQUIRE_EMAIL_VERIFICATION an email
 * change waits in the token (the old address stays the account's until the new one is confirmed);
 * without it the new address is the account's at once, unconfirmed until verified.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { GatekeeperError, invalidField } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { UserRecord } from '../store/store.js';
import type { RequestContext } from './actor.js';
import { mustExist, recordEvent } from './accounts.js';
import type { UseCaseDeps } from './deps.js';

/** Verification mails per account and hour at most (a signed-in flood, or logins of an unverified account). */
export const VERIFICATION_MAILS_PER_ACCOUNT_HOUR = 5;
/** Wrong codes that void a verification code: 5 guesses of 10^6 leave a 1 in 200,000 chance. */
export const MAX_CODE_ATTEMPTS = 5;
const CODE_DIGITS = 6;
const HOUR_MS = 3_600_000;
const PURPOSE = 'email_verification' as const;

export interface EmailVerificationOptions {
  mailer: Mailer | null;
  /** GATEKEEPER_EMAIL_VERIFICATION_MINUTES. */
  tokenMinutes: number;
  /** GATEKEEPER_REQUIRE_EMAIL_VERIFICATION. */
  required: boolean;
}

/** Why a mail is sent, for the audit trail. */
type MailReason = 'request' | 'registration' | 'email-change' | 'login';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class EmailVerification {
  readonly #deps: UseCaseDeps;
  readonly #options: EmailVerificationOptions;

  constructor(deps: UseCaseDeps, options: EmailVerificationOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Whether logins of unconfirmed accounts are refused and email changes wait for confirmation. */
  get required(): boolean {
    return this.#options.required;
  }

  /**
   * The signed-in user asks for a (new) verification mail to their current address. 422 without
   * an email, EMAIL_ALREADY_VERIFIED when it is confirmed, TOO_MANY_ATTEMPTS past the hourly budget.
   */
  async request(userId: string, context: RequestContext = {}): Promise<void> {
    const user = mustExist(await this.#deps.store.getUserById(userId));
    if (user.email === null) throw invalidField('email', 'the account has no email address to verify');
    if (user.emailVerified) {
      throw new GatekeeperError('EMAIL_ALREADY_VERIFIED', 'The email address of this account is verified already.');
    }
    if (!(await this.#send(user, user.email, 'request', context))) {
      throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many verification mails for this account; try again later.', {
        retryAfterSeconds: Math.ceil(HOUR_MS / 1000),
      });
    }
  }

  /** After a registration with an email: the first verification mail (never fails the registration). */
  async afterRegistration(user: UserRecord, context: RequestContext = {}): Promise<void> {
    if (user.email === null) return;
    await this.#sendQuietly(user, user.email, 'registration', context);
  }

  /** A correct login of an unconfirmed account under `required`: a fresh mail, within the budget. */
  async afterRefusedLogin(user: UserRecord, context: RequestContext = {}): Promise<void> {
    if (user.email === null) return;
    await this.#sendQuietly(user, user.email, 'login', context);
  }

  /**
   * Whether an email change of `before` to `newEmail` (null: removed), by the user or an admin, may
   * be stored at once. Under `required` it may not (unless an admin vouches for the new address):
   * it then waits in the verification token, and the old address stays the account's until the new
   * one is confirmed. EMAIL_TAKEN for a waiting change to another account's address, as the store
   * answers a direct one.
   */
  async appliesNow(before: UserRecord, newEmail: string | null, vouched: boolean): Promise<boolean> {
    if (!this.#options.required || vouched || newEmail === null) return true;
    const holder = await this.#deps.store.getUserByLogin(newEmail);
    if (holder && holder.id !== before.id)
      throw new GatekeeperError('EMAIL_TAKEN', 'That email is already registered.');
    return false;
  }

  /**
   * After an email change was stored (or left waiting): older verification tokens are void (they
   * confirm an address that is no longer the one in question), the new address gets a verification
   * mail (unless an admin vouched for it) and the old one a notice.
   */
  async emailChanged(
    before: UserRecord,
    newEmail: string | null,
    context: RequestContext,
    vouched: boolean,
  ): Promise<void> {
    await this.#deps.store.voidOneTimeTokens(before.id, this.#deps.now(), PURPOSE);
    if (newEmail !== null && !vouched) await this.#sendQuietly(before, newEmail, 'email-change', context);
    if (before.email !== null && this.#options.mailer) {
      this.#options.mailer.send({
        to: before.email,
        template: 'email-change-notice',
        values: { username: before.username, newEmail: newEmail ?? '(none)' },
      });
    }
  }

  /** Confirms with the link's token, signed in or not. INVALID_TOKEN for unknown, used, expired. */
  async verifyToken(token: string, context: RequestContext = {}): Promise<UserRecord> {
    const spent = await this.#deps.store.consumeOneTimeToken(sha256(token), PURPOSE, this.#deps.now());
    if (!spent || spent.email === null) throw invalidToken();
    return this.#confirm(spent.userId, spent.email, 'link', context);
  }

  /** Confirms with the mailed short code; only the signed-in owner may, MAX_CODE_ATTEMPTS tries. */
  async verifyCode(userId: string, code: string, context: RequestContext = {}): Promise<UserRecord> {
    const normalized = code.replace(/[\s-]/g, '');
    const spent = await this.#deps.store.consumeOneTimeCode(
      userId,
      PURPOSE,
      sha256(normalized),
      this.#deps.now(),
      MAX_CODE_ATTEMPTS,
    );
    if (!spent || spent.email === null) throw invalidToken();
    return this.#confirm(spent.userId, spent.email, 'code', context);
  }

  async #confirm(userId: string, email: string, via: 'link' | 'code', context: RequestContext): Promise<UserRecord> {
    const { store } = this.#deps;
    const user = await store.getUserById(userId);
    if (!user || !user.isActive) throw invalidToken();
    const pending = user.email?.toLowerCase() !== email.toLowerCase();
    // Only a required verification leaves a change waiting; otherwise another address is stale.
    if (pending && !this.#options.required) throw invalidToken();
    // A pending change becomes the account's email with its confirmation; EMAIL_TAKEN should
    // another account have taken the address meanwhile.
    const updated = mustExist(
      await store.updateUser(user.id, pending ? { email, emailVerified: true } : { emailVerified: true }),
    );
    await recordEvent(this.#deps, 'email.verify', updated, context, { via, changed: pending });
    return updated;
  }

  /** Logs instead of throwing: a mail that cannot go must not fail what caused it. */
  async #sendQuietly(user: UserRecord, to: string, reason: MailReason, context: RequestContext): Promise<void> {
    try {
      await this.#send(user, to, reason, context);
    } catch (err) {
      this.#deps.log?.warn({ userId: user.id, err }, 'could not issue an email verification token');
    }
  }

  /** Issues a token and code for `to` and queues the mail; false past the hourly budget. */
  async #send(user: UserRecord, to: string, reason: MailReason, context: RequestContext): Promise<boolean> {
    const now = this.#deps.now();
    const token = randomBytes(32).toString('base64url');
    const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
    const issued = await this.#deps.store.issueOneTimeToken(
      {
        userId: user.id,
        purpose: PURPOSE,
        tokenHash: sha256(token),
        codeHash: sha256(code),
        email: to,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.#options.tokenMinutes * 60_000),
      },
      { since: new Date(now.getTime() - HOUR_MS), max: VERIFICATION_MAILS_PER_ACCOUNT_HOUR },
    );
    if (!issued) return false;
    await recordEvent(this.#deps, 'email.verification_request', user, context, {
      reason,
      mailed: this.#options.mailer !== null,
    });
    if (!this.#options.mailer) {
      this.#deps.log?.warn({ userId: user.id }, 'email verification requested, but this service has no mailer');
      return true;
    }
    this.#options.mailer.send({
      to,
      template: 'email-verification',
      values: {
        username: user.username,
        code,
        link: this.#options.mailer.link(`/verify-email#token=${token}`),
        minutes: String(this.#options.tokenMinutes),
      },
    });
    return true;
  }
}

function invalidToken(): GatekeeperError {
  return new GatekeeperError('INVALID_TOKEN', 'This verification link or code is invalid, used or expired.');
}
