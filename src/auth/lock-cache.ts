/**
 * Account locks known in this process, for a few seconds: while an account is
 * locked, refusing an attempt needs no database read. An entry holds until the
 * lock's end or LOCK_CACHE_SECONDS after it was learnt, whichever comes first, so
 * the shared counters are read again that often (an unlock on another instance
 * is seen within that time).
 */
import type { AuditSubject } from './audit-trail.js';

/** How long a lock learnt from the shared counters is trusted without reading them again. */
export const LOCK_CACHE_SECONDS = 5;
/** Entries kept at most; the oldest go first (a spray over many names stays bounded). */
const MAX_ENTRIES = 10_000;

/** A cached lock: when it ends, whose counter it is, and who the audit rows name. */
export interface CachedLock {
  until: Date;
  account: string;
  subject: AuditSubject;
}

interface Entry extends CachedLock {
  validUntil: number;
}

export class LockCache {
  readonly #entries = new Map<string, Entry>();

  /** The lock cached under `key` and the seconds left, or null. */
  get(key: string, now: Date): (CachedLock & { retryAfterSeconds: number }) | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    const left = Math.min(entry.until.getTime(), entry.validUntil) - now.getTime();
    if (left <= 0) {
      this.#entries.delete(key);
      return null;
    }
    return { ...entry, retryAfterSeconds: Math.max(1, Math.ceil((entry.until.getTime() - now.getTime()) / 1000)) };
  }

  set(key: string, lock: CachedLock, now: Date): void {
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { ...lock, validUntil: now.getTime() + LOCK_CACHE_SECONDS * 1000 });
  }

  /** Drops every entry of that account (its own key and the spellings that led to it). */
  forgetAccount(account: string): void {
    for (const [key, entry] of this.#entries) if (entry.account === account) this.#entries.delete(key);
  }
}
