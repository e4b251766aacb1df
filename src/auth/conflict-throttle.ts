/**
 * Registration and profile changes answer 409 USERNAME_TAKEN / EMAIL_TAKEN, which
 * tells whoever asks that an account exists. Those answers are counted per client
 * address (`register-ip:<address>`, in the login window) and past the limit every
 * registration or profile change from that address gets 429 TOO_MANY_ATTEMPTS
 * until the window ends. Only the revealing answers are counted: a school behind
 * one address can still create its accounts, while a list of names or emails can
 * be checked only `maxConflicts` at a time per address and window.
 */
import { GatekeeperError, isGatekeeperError } from '../errors.js';
import type { Store } from '../store/store.js';
import { ipKey } from '../security/throttle.js';

/** The default limit (proposed setting: GATEKEEPER_REGISTER_IP_MAX_CONFLICTS). */
export const DEFAULT_REGISTER_IP_MAX_CONFLICTS = 20;

export interface ConflictPolicy {
  windowSeconds: number;
  maxConflicts: number;
}

export class ConflictThrottle {
  constructor(
    private readonly store: Store,
    readonly policy: ConflictPolicy,
  ) {}

  /**
   * Runs `work` for a caller at `ip` unless the address has used up its conflicts
   * (429), and counts a USERNAME_TAKEN or EMAIL_TAKEN it throws. No address (library
   * use, the CLI): not limited.
   */
  async guard<T>(ip: string | null | undefined, now: Date, work: () => Promise<T>): Promise<T> {
    if (!ip) return work();
    const key = `register-${ipKey(ip)}`;
    const [counter] = await this.store.getLoginFailures([key], now, this.policy.windowSeconds);
    if (counter && counter.count >= this.policy.maxConflicts) {
      const windowEnd = counter.firstAt.getTime() + this.policy.windowSeconds * 1000;
      throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many attempts from this address; try again later.', {
        retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now.getTime()) / 1000)),
      });
    }
    try {
      return await work();
    } catch (err) {
      if (isGatekeeperError(err, 'USERNAME_TAKEN') || isGatekeeperError(err, 'EMAIL_TAKEN')) {
        await this.store.recordLoginFailure(key, now, this.policy.windowSeconds);
      }
      throw err;
    }
  }
}
