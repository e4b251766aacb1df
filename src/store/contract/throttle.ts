/** The throttle facet of the storage contract: failed-login counters shared by every instance on the store. */

/**
 * Failed logins counted under one key (`account:<name>` or `ip:<address>`) in its
 * current window. The window is fixed: it opens at the first failure and closes
 * `windowSeconds` later, after which the counter starts again from zero.
 */
export interface LoginFailures {
  key: string;
  count: number;
  firstAt: Date;
  lastAt: Date;
}

/** Login throttling: counters kept across restarts. */
export interface ThrottleStore {
  /** Atomically counts one failure under `key`, starting a new window if the last one closed; returns the counter. */
  recordLoginFailure(key: string, now: Date, windowSeconds: number): Promise<LoginFailures>;
  /** The counters of these keys whose window is still open at `now` (others are left out). */
  getLoginFailures(keys: readonly string[], now: Date, windowSeconds: number): Promise<LoginFailures[]>;
  clearLoginFailures(key: string): Promise<void>;
  /** Deletes counters whose window has closed; returns how many. */
  purgeLoginFailures(now: Date, windowSeconds: number): Promise<number>;
}
