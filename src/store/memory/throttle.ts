/** The throttle facet in process memory (src/store/contract/throttle.ts): failed-login counters. */
import type { LoginFailures, ThrottleStore } from '../contract/throttle.js';

/** Counters beyond this many trigger a sweep of closed windows. */
const FAILURE_SWEEP_SIZE = 10_000;

/** @example const throttle = createMemoryThrottle(); */
export function createMemoryThrottle(): ThrottleStore {
  const failures = new Map<string, LoginFailures>();

  const purge = (now: Date, windowSeconds: number): number => {
    let removed = 0;
    for (const [key, entry] of failures) {
      if (!isOpen(entry, now, windowSeconds)) {
        failures.delete(key);
        removed += 1;
      }
    }
    return removed;
  };

  return {
    async recordLoginFailure(key, now, windowSeconds) {
      const current = failures.get(key);
      const next =
        current && isOpen(current, now, windowSeconds)
          ? { ...current, count: current.count + 1, lastAt: current.lastAt > now ? current.lastAt : now }
          : { key, count: 1, firstAt: now, lastAt: now };
      failures.set(key, next);
      // Without a database, nothing else would ever drop the counters of one-off names and addresses.
      if (failures.size > FAILURE_SWEEP_SIZE) purge(now, windowSeconds);
      return { ...next };
    },

    async getLoginFailures(keys, now, windowSeconds) {
      return keys.flatMap((key) => {
        const entry = failures.get(key);
        return entry && isOpen(entry, now, windowSeconds) ? [{ ...entry }] : [];
      });
    },

    async clearLoginFailures(key) {
      failures.delete(key);
    },

    async purgeLoginFailures(now, windowSeconds) {
      return purge(now, windowSeconds);
    },
  };
}

function isOpen(entry: LoginFailures, now: Date, windowSeconds: number): boolean {
  return now.getTime() - entry.firstAt.getTime() < windowSeconds * 1000;
}
