/**
 * Puts the throttle policy (src/security/throttle.ts) and the shared counters of
 * the store together for AuthService.login(). The check runs before any password
 * is verified, so a locked account or address costs no Argon2 work.
 */
import { retryAfterSeconds, type ThrottleKeys, type ThrottlePolicy } from '../security/throttle.js';
import type { Store } from '../store/store.js';

export interface ThrottleCheck {
  /** Seconds to wait (Retry-After), or null when the attempt may go ahead. */
  retryAfterSeconds: number | null;
  /** The account has failures in its window, so a success has a counter to clear. */
  accountHasFailures: boolean;
}

export class LoginThrottle {
  constructor(
    private readonly store: Store,
    readonly policy: ThrottlePolicy,
  ) {}

  async check(keys: ThrottleKeys, now: Date): Promise<ThrottleCheck> {
    const wanted = keys.ip === null ? [keys.account] : [keys.account, keys.ip];
    const found = await this.store.getLoginFailures(wanted, now, this.policy.windowSeconds);
    const account = found.find((f) => f.key === keys.account);
    const ip = found.find((f) => f.key === keys.ip);
    return {
      retryAfterSeconds: retryAfterSeconds(this.policy, { account, ip }, now),
      accountHasFailures: account !== undefined,
    };
  }

  async recordFailure(keys: ThrottleKeys, now: Date): Promise<void> {
    const window = this.policy.windowSeconds;
    await Promise.all([
      this.store.recordLoginFailure(keys.account, now, window),
      keys.ip === null ? null : this.store.recordLoginFailure(keys.ip, now, window),
    ]);
  }

  /**
   * A success clears the account's counter only: clearing the address's too would
   * let an attacker reset it by logging into an account of their own between guesses.
   */
  async recordSuccess(keys: ThrottleKeys, check: ThrottleCheck): Promise<void> {
    if (check.accountHasFailures) await this.store.clearLoginFailures(keys.account);
  }
}
