/**
 * Brute-force policy for logins (issue 5, point 1): pure functions over failure
 * counters, so every instance reaches the same decision from the same shared
 * counters, and tests drive it with a fixed clock. Counting lives in the store;
 * AuthService puts the two together. No HTTP, no SQL here.
 */
import { clientAddressKey } from '../core/client-address.js';

export interface ThrottlePolicy {
  /** GATEKEEPER_LOGIN_WINDOW_SECONDS: counters expire this long after their first failure. */
  windowSeconds: number;
  /** GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: failures per account before the growing delay starts. */
  accountMaxFailures: number;
  /** GATEKEEPER_LOGIN_IP_MAX_FAILURES: failures per client address before the growing delay starts. */
  ipMaxFailures: number;
}

/** The defaults of docs/DESIGN.md. */
export const DEFAULT_THROTTLE_POLICY: Readonly<ThrottlePolicy> = Object.freeze({
  windowSeconds: 900,
  accountMaxFailures: 5,
  ipMaxFailures: 50,
});

/** One counter as the store keeps it. */
export interface FailureCounter {
  count: number;
  /** The window opened here and closes `windowSeconds` later. */
  firstAt: Date;
  lastAt: Date;
}

/** The counter keys one login attempt is charged to. */
export interface ThrottleKeys {
  account: string;
  /** Null when the caller has no client address (library use, CLI). */
  ip: string | null;
}

/**
 * Keys for an attempt on `accountName` from `ip`. Pass the stored username when the
 * login matched a user, so that trying its username and its email share one budget.
 * @example throttleKeys('Alice', '203.0.113.7') // { account: 'account:alice', ip: 'ip:203.0.113.7' }
 */
export function throttleKeys(accountName: string, ip: string | null | undefined): ThrottleKeys {
  return { account: `account:${accountName.toLowerCase()}`, ip: ip ? ipKey(ip) : null };
}

/**
 * The key an address's work is counted under (failed logins, its share of the hash queue):
 * IPv6 grouped by /64, so a client cannot escape its limits by rotating through its prefix.
 * @example ipKey('2001:db8:1:2::7') // 'ip:2001:db8:1:2::/64'
 */
export function ipKey(ip: string): string {
  return `ip:${clientAddressKey(ip)}`;
}

/**
 * Until when a key with these failures must wait, or null if it may try now.
 *
 * After `maxFailures` failures the delay doubles with each further one (1 s, 2 s,
 * 4 s, … counted from the last failure), capped at the window, and it never runs
 * past the end of the window, when the counter expires. So whoever hammers an
 * account, its owner is never locked out for longer than the window: attempts
 * refused by the lock are not counted, and the counter cannot outlive its window.
 */
export function lockedUntil(failures: FailureCounter, maxFailures: number, windowSeconds: number): Date | null {
  if (failures.count < maxFailures) return null;
  const delaySeconds = Math.min(windowSeconds, 2 ** (failures.count - maxFailures));
  const windowEnd = failures.firstAt.getTime() + windowSeconds * 1000;
  return new Date(Math.min(failures.lastAt.getTime() + delaySeconds * 1000, windowEnd));
}

/**
 * Seconds to put in Retry-After for an attempt at `now`, or null when neither the
 * account nor the address is locked.
 */
export function retryAfterSeconds(
  policy: ThrottlePolicy,
  failures: { account?: FailureCounter | undefined; ip?: FailureCounter | undefined },
  now: Date,
): number | null {
  const until = [
    failures.account && lockedUntil(failures.account, policy.accountMaxFailures, policy.windowSeconds),
    failures.ip && lockedUntil(failures.ip, policy.ipMaxFailures, policy.windowSeconds),
  ].reduce<number>((latest, date) => (date ? Math.max(latest, date.getTime()) : latest), 0);
  if (until <= now.getTime()) return null;
  return Math.max(1, Math.ceil((until - now.getTime()) / 1000));
}
