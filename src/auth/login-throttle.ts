/**
 * Puts the throttle policy (src/security/throttle.ts) and the shared counters of
 * the store together for every endpoint that checks a password: login,
 * change-password and an email change with `current_password` share one counter
 * per account, whichever of them is used to guess.
 *
 * The account is charged BEFORE the password is verified (the store's atomic
 * recordLoginFailure returns the new count) and a success clears the counter, so
 * the threshold holds under concurrency and across instances: of 40 guesses sent
 * at once, at most the threshold are verified. Locks learnt from the counters are
 * kept a few seconds in process (LockCache), so a hammered account costs no reads.
 */
import { GatekeeperError } from '../errors.js';
import {
  ipKey,
  lockedUntil,
  retryAfterSeconds,
  type FailureCounter,
  type ThrottleKeys,
  type ThrottlePolicy,
} from '../security/throttle.js';
import type { Store } from '../store/store.js';
import type { AuditEntry } from './audit-trail.js';
import { LockCache } from './lock-cache.js';
import type { RefusalAudit } from './refusal-audit.js';

/** An attempt that passed the lock check and was charged to its account. */
export interface ChargedAttempt {
  keys: ThrottleKeys;
  /** The address is past its failure limit: it gets a small share of the hash queue, and 429 for failures. */
  addressThrottled: boolean;
  /** The account's counter after this attempt was charged. */
  account: FailureCounter;
}

export class LoginThrottle {
  readonly #locks = new LockCache();

  constructor(
    private readonly store: Store,
    readonly policy: ThrottlePolicy,
    private readonly refusals: RefusalAudit,
  ) {}

  /**
   * Refuses at once, with no read at all, when `alias` (the login as typed, lower-cased)
   * led to a locked account a moment ago. The refusal is audited (aggregated).
   */
  async refuseIfCached(alias: string, refusal: AuditEntry): Promise<void> {
    const cached = this.#locks.get(aliasKey(alias), refusal.at);
    if (cached) await this.#refuse(cached.account, cached.retryAfterSeconds, { ...refusal, ...cached.subject });
  }

  /**
   * Checks the account's lock and charges the attempt to it; throws TOO_MANY_ATTEMPTS
   * (audited as `refusal`, aggregated) while the account is locked, or when a
   * concurrent attempt took the last try before the lock. `aliases` are other
   * spellings (the login as typed) remembered with the lock.
   */
  async charge(keys: ThrottleKeys, refusal: AuditEntry, aliases: readonly string[] = []): Promise<ChargedAttempt> {
    const now = refusal.at;
    const cached = this.#locks.get(keys.account, now);
    if (cached) await this.#refuse(keys.account, cached.retryAfterSeconds, refusal);
    const wanted = keys.ip === null ? [keys.account] : [keys.account, keys.ip];
    const found = await this.store.getLoginFailures(wanted, now, this.policy.windowSeconds);
    const seen = found.find((f) => f.key === keys.account);
    const ip = found.find((f) => f.key === keys.ip);
    const wait = retryAfterSeconds(this.policy, { account: seen }, now);
    if (wait !== null) {
      this.#remember(keys, seen!, refusal, aliases);
      await this.#refuse(keys.account, wait, refusal);
    }
    const account = await this.store.recordLoginFailure(keys.account, now, this.policy.windowSeconds);
    // Within the threshold every charged attempt may be verified; past it only the one that
    // found the lock open and charged first (count = seen + 1), so a burst cannot slip through.
    if (account.count > this.policy.accountMaxFailures && account.count !== (seen?.count ?? 0) + 1) {
      this.#remember(keys, account, refusal, aliases);
      const raced = retryAfterSeconds(this.policy, { account }, now) ?? 1;
      await this.#refuse(keys.account, raced, refusal);
    }
    const addressThrottled = ip !== undefined && ip.count >= this.policy.ipMaxFailures;
    return { keys, addressThrottled, account };
  }

  /**
   * The password was wrong (or the account unusable): counts the address (the account
   * was charged already) and remembers the account's lock if this failure started one.
   * Returns the Retry-After for a throttled address's 429, else null.
   */
  async recordFailure(
    attempt: ChargedAttempt,
    subject: AuditEntry,
    aliases: readonly string[] = [],
  ): Promise<number | null> {
    const { keys } = attempt;
    const now = subject.at;
    if (lockedUntil(attempt.account, this.policy.accountMaxFailures, this.policy.windowSeconds)) {
      this.#remember(keys, attempt.account, subject, aliases);
    }
    if (keys.ip === null) return null;
    const ip = await this.store.recordLoginFailure(keys.ip, now, this.policy.windowSeconds);
    if (!attempt.addressThrottled) return null;
    return retryAfterSeconds(this.policy, { ip }, now) ?? 1;
  }

  /**
   * Client authentication (POST /auth/introspect) has no account to charge: only the
   * client address counts, on the same counter as its failed logins. While the address
   * is locked, an attempt is refused with TOO_MANY_ATTEMPTS before any secret is checked
   * (audited as `refusal`, aggregated), so secrets cannot be guessed at speed.
   *
   * The lock is learnt when a failure is recorded (recordAddressFailure) and kept in
   * process, so an authenticated request costs no read: past the limit an address gets at
   * most one checked attempt per instance every LOCK_CACHE_SECONDS, however long the lock.
   */
  async refuseLockedAddress(ip: string | null, refusal: AuditEntry): Promise<void> {
    if (ip === null) return;
    const key = clientAuthKey(ip);
    const cached = this.#locks.get(key, refusal.at);
    if (cached) await this.#refuse(key, cached.retryAfterSeconds, refusal);
  }

  /** A failed client authentication from `ip`: counted; from the limit on, the address is locked. */
  async recordAddressFailure(ip: string | null, entry: AuditEntry): Promise<void> {
    if (ip === null) return;
    const counter = await this.store.recordLoginFailure(ipKey(ip), entry.at, this.policy.windowSeconds);
    const until = lockedUntil(counter, this.policy.ipMaxFailures, this.policy.windowSeconds);
    if (until === null || until <= entry.at) return;
    const key = clientAuthKey(ip);
    this.#locks.set(key, { until, account: key, subject: { username: null, userId: null } }, entry.at);
  }

  /** The password was right: the account's counter (charged for this attempt too) is cleared. */
  async recordSuccess(attempt: ChargedAttempt): Promise<void> {
    await this.clear(attempt.keys.account);
  }

  /**
   * Clears an account's counter everywhere (unlock, success) and forgets its cached lock
   * here; other instances may still refuse from their cache for up to LockCache's few seconds.
   * A success clears the account only: clearing the address too would let an attacker
   * reset it by logging into an account of their own between guesses.
   */
  async clear(accountKey: string): Promise<void> {
    this.#locks.forgetAccount(accountKey);
    await this.store.clearLoginFailures(accountKey);
  }

  #remember(keys: ThrottleKeys, counter: FailureCounter, entry: AuditEntry, aliases: readonly string[]): void {
    const until = lockedUntil(counter, this.policy.accountMaxFailures, this.policy.windowSeconds);
    if (!until) return;
    const subject = { username: entry.username, userId: entry.userId };
    for (const key of [keys.account, ...aliases.map(aliasKey)]) {
      this.#locks.set(key, { until, account: keys.account, subject }, entry.at);
    }
  }

  async #refuse(accountKey: string, wait: number, entry: AuditEntry): Promise<never> {
    await this.refusals.record(accountKey, entry);
    throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many failed attempts; try again later.', {
      retryAfterSeconds: wait,
    });
  }
}

/** Where a locked address is remembered for client authentication (apart from logins' keys). */
function clientAuthKey(ip: string): string {
  return `client-auth:${ipKey(ip)}`;
}

function aliasKey(alias: string): string {
  return `login:${alias.toLowerCase()}`;
}
