/**
 * Multi-factor authentication with TOTP (RFC 6238, issue 14): setup (password first) gives a
 * pending secret, the first code confirms it and gives ten recovery codes once; disabling needs
 * the password and a code; an admin (or an operator) may reset it; the login's second step
 * (POST /auth/login/mfa) spends the mfa_token of ./mfa-challenge.ts with a code.
 *
 * Every code check is charged to the account's login budget (./throttled-check.ts), the same
 * counter as the password's. A TOTP code is accepted once: the store moves the account's last
 * accepted time step forward atomically, and a code of that step or an earlier one is refused.
 * The secret is kept sealed (src/security/secret-box.ts) under a key derived from the service's
 * key material: GATEKEEPER_SECRET_KEY when set, else a random key generated once and kept in the
 * settings table (docs/SECURITY.md says what rotating either means).
 */
import { randomBytes } from 'node:crypto';
import { GatekeeperError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import { hashRecoveryCode, newRecoveryCodes } from '../security/recovery-codes.js';
import { SecretBox } from '../security/secret-box.js';
import { ipKey } from '../security/throttle.js';
import { isTotpCode, matchTotp, newTotpSecret, qrSvg, totpUrl } from '../security/totp.js';
import type { MfaRecord, UserRecord } from '../store/store.js';
import { actorName, hasAdminAuthority, type RequestContext } from './actor.js';
import { mustExist, recordEvent, userNamed } from './accounts.js';
import { subjectOf } from './audit-trail.js';
import type { UseCaseDeps } from './deps.js';
import { hashMfaToken, MFA_TOKEN_PURPOSE } from './mfa-challenge.js';
import type { SessionNotices } from './session-notices.js';
import { MFA_AMR, startLoginSession } from './sign-in.js';
import { checkPassword, throttledCheck } from './throttled-check.js';
import type { Principal, TokenPair } from './types.js';

/** Where the generated MFA key material is kept when GATEKEEPER_SECRET_KEY is not set. */
export const MFA_KEY_SETTING = 'mfa_secret_key';

export interface MfaOptions {
  mailer: Mailer | null;
  /** The issuer authenticator apps show (GATEKEEPER_PRODUCT_NAME). */
  issuer: string;
  /** GATEKEEPER_SECRET_KEY; absent: a key generated once and kept in the settings table. */
  keyMaterial?: string | null;
  /** The new-address notice of a completed login (session-notices.ts). */
  notices?: SessionNotices | null;
}

/** What setup answers: the secret in the three forms an authenticator app takes. */
export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

export class Mfa {
  readonly #deps: UseCaseDeps;
  readonly #options: MfaOptions;
  #box: Promise<SecretBox> | undefined;

  constructor(deps: UseCaseDeps, options: MfaOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Password first; a new pending secret (replacing a pending one). MFA_ALREADY_ENABLED when confirmed. */
  async setup(principal: Principal, password: string, context: RequestContext = {}): Promise<TotpSetup> {
    const { store } = this.#deps;
    const user = mustExist(await store.getUserById(principal.user.id));
    if ((await store.getMfa(user.id))?.confirmedAt) throw alreadyEnabled();
    await this.#checkPassword(user, password, 'mfa-setup', context);
    const secret = newTotpSecret();
    const sealed = (await this.#secretBox()).seal(secret, user.id);
    if (!(await store.putPendingMfa(user.id, sealed, this.#deps.now()))) throw alreadyEnabled();
    const otpauthUrl = totpUrl(secret, this.#options.issuer, user.username);
    return { secret, otpauthUrl, qrSvg: await qrSvg(otpauthUrl) };
  }

  /** The first code confirms the pending secret; the ten recovery codes are returned this once. */
  async confirm(principal: Principal, code: string, context: RequestContext = {}): Promise<string[]> {
    const { store } = this.#deps;
    const user = mustExist(await store.getUserById(principal.user.id));
    const mfa = await store.getMfa(user.id);
    if (mfa?.confirmedAt) throw alreadyEnabled();
    if (!mfa) throw new GatekeeperError('MFA_NOT_ENABLED', 'No TOTP setup is pending; start one first.');
    const matched: { step: number | null } = { step: null };
    await throttledCheck(
      this.#deps,
      user,
      context,
      { event: 'reauth.failure', detail: { action: 'mfa-confirm' }, failureReason: 'wrong-code', wrong: invalidCode },
      async () => {
        const secret = await this.#open(mfa);
        matched.step = secret === null ? null : await matchTotp(secret, code, this.#deps.now());
        return matched.step !== null;
      },
    );
    const codes = newRecoveryCodes();
    const hashes = codes.map(hashRecoveryCode);
    const confirmed = await store.confirmMfa(user.id, mfa.secretCiphertext, matched.step!, hashes, this.#deps.now());
    // A setup started in between replaced the secret this code was for.
    if (!confirmed) throw invalidCode();
    await recordEvent(this.#deps, 'mfa.enable', user, context, { method: 'totp' });
    this.#notify(user, 'mfa-enabled');
    return codes;
  }

  /** Password and a code (TOTP or recovery); removes the secret and the recovery codes. */
  async disable(principal: Principal, password: string, code: string, context: RequestContext = {}): Promise<void> {
    const { store } = this.#deps;
    const user = mustExist(await store.getUserById(principal.user.id));
    const mfa = await store.getMfa(user.id);
    if (!mfa?.confirmedAt) throw new GatekeeperError('MFA_NOT_ENABLED', 'Multi-factor authentication is not enabled.');
    // The password's success does not clear the counter: the code after it must not be guessable
    // by sending the right password between guesses.
    await this.#checkPassword(user, password, 'mfa-disable', context, false);
    let method: string | null = null;
    await throttledCheck(
      this.#deps,
      user,
      context,
      { event: 'reauth.failure', detail: { action: 'mfa-disable' }, failureReason: 'wrong-code', wrong: invalidCode },
      async () => (method = await this.#secondFactor(user, mfa, code)) !== null,
    );
    await this.#remove(user);
    await recordEvent(this.#deps, 'mfa.disable', user, context, { method });
    this.#notify(user, 'mfa-disabled');
  }

  /** An admin's (or operator's) remedy for a lost device: removes the user's MFA. False when there was none. */
  async reset(username: string, context: RequestContext = {}): Promise<boolean> {
    if (!hasAdminAuthority(context.actor)) throw new GatekeeperError('FORBIDDEN', 'Only admins can reset MFA.');
    const user = await userNamed(this.#deps, username);
    const removed = await this.#remove(user);
    if (!removed) return false;
    await recordEvent(this.#deps, 'mfa.reset', user, context, { by: actorName(context.actor) });
    this.#notify(user, 'mfa-reset');
    return true;
  }

  /**
   * The login's second step: the mfa_token from the password step and a TOTP or recovery code.
   * INVALID_TOKEN for an unknown, spent or expired mfa_token; INVALID_CODE for a wrong code
   * (the token stays usable until it expires); TOO_MANY_ATTEMPTS from the account's login budget.
   */
  async completeLogin(mfaToken: string, code: string, context: RequestContext = {}): Promise<TokenPair> {
    const { store } = this.#deps;
    const tokenHash = hashMfaToken(mfaToken);
    const pending = await store.findOneTimeToken(tokenHash, MFA_TOKEN_PURPOSE, this.#deps.now());
    const user = pending ? await store.getUserById(pending.userId) : null;
    const mfa = user ? await store.getMfa(user.id) : null;
    if (!user || !user.isActive || !mfa?.confirmedAt) throw invalidMfaToken();
    let method: string | null = null;
    await throttledCheck(
      this.#deps,
      user,
      context,
      {
        event: 'login.failure',
        detail: { step: 'mfa' },
        failureReason: 'wrong-code',
        wrong: () => new GatekeeperError('INVALID_CODE', 'The code is wrong or was used already.'),
      },
      async () => (method = await this.#secondFactor(user, mfa, code)) !== null,
    );
    // Of two second steps racing with one token, one starts a session.
    if (!(await store.consumeOneTimeToken(tokenHash, MFA_TOKEN_PURPOSE, this.#deps.now()))) throw invalidMfaToken();
    const tokens = await startLoginSession(this.#deps, this.#options.notices ?? null, user, context, MFA_AMR);
    await this.#deps.audit.record({
      event: 'login.success',
      at: this.#deps.now(),
      ip: context.ip ?? null,
      ...subjectOf(user),
      detail: { amr: MFA_AMR, method },
    });
    return tokens;
  }

  /** Of these users, those with MFA confirmed (UserPublic's mfa_enabled). */
  enabledAmong(userIds: readonly string[]): Promise<Set<string>> {
    return this.#deps.store.listMfaEnabled(userIds);
  }

  /**
   * 'totp' or 'recovery_code' when `code` is a good one now (and spends it: a TOTP step is
   * accepted once, a recovery code is used up), else null.
   */
  async #secondFactor(user: UserRecord, mfa: MfaRecord, code: string): Promise<'totp' | 'recovery_code' | null> {
    const { store } = this.#deps;
    const now = this.#deps.now();
    if (isTotpCode(code)) {
      const secret = await this.#open(mfa);
      const step = secret === null ? null : await matchTotp(secret, code.trim(), now);
      return step !== null && (await store.acceptMfaStep(user.id, step)) ? 'totp' : null;
    }
    return (await store.consumeRecoveryCode(user.id, hashRecoveryCode(code), now)) ? 'recovery_code' : null;
  }

  async #remove(user: UserRecord): Promise<boolean> {
    const removed = await this.#deps.store.deleteMfa(user.id);
    // A second step begun before the change must not finish after it.
    await this.#deps.store.voidOneTimeTokens(user.id, this.#deps.now(), MFA_TOKEN_PURPOSE);
    return removed;
  }

  async #checkPassword(
    user: UserRecord,
    password: string,
    action: string,
    context: RequestContext,
    clearOnSuccess = true,
  ): Promise<void> {
    const ip = context.ip ?? null;
    const ticket = this.#deps.hasher.queue.reserve(ip === null ? [] : [{ key: ipKey(ip) }]);
    try {
      await checkPassword(this.#deps, user, password, action, context, ticket, clearOnSuccess);
    } finally {
      ticket.release();
    }
  }

  async #open(mfa: MfaRecord): Promise<string | null> {
    const secret = (await this.#secretBox()).open(mfa.secretCiphertext, mfa.userId);
    if (secret === null) {
      // Sealed under another key (GATEKEEPER_SECRET_KEY changed) or damaged: no code can match.
      this.#deps.log?.error({ userId: mfa.userId }, 'the TOTP secret cannot be decrypted with the current MFA key');
    }
    return secret;
  }

  #secretBox(): Promise<SecretBox> {
    this.#box ??= (async () => {
      const material =
        this.#options.keyMaterial ??
        (await this.#deps.store.putSettingIfAbsent(MFA_KEY_SETTING, randomBytes(32).toString('base64url')));
      return new SecretBox(material);
    })();
    // A failed read (database down) is not remembered: the next call tries again.
    this.#box.catch(() => (this.#box = undefined));
    return this.#box;
  }

  #notify(user: UserRecord, template: 'mfa-enabled' | 'mfa-disabled' | 'mfa-reset'): void {
    if (!user.email || !this.#options.mailer) return;
    this.#options.mailer.send({ to: user.email, template, values: { username: user.username } });
  }
}

function alreadyEnabled(): GatekeeperError {
  return new GatekeeperError('MFA_ALREADY_ENABLED', 'Multi-factor authentication is enabled already.');
}

function invalidCode(): GatekeeperError {
  return new GatekeeperError('INVALID_CODE', 'The code is wrong or was used already.');
}

function invalidMfaToken(): GatekeeperError {
  return new GatekeeperError('INVALID_TOKEN', 'The MFA token is invalid, used or expired; log in again.');
}
