import type { SessionRecord, Store, UserRecord } from './store.js';

/** How processes sharing a database tell each other that cached state changed. */
export interface InvalidationBus {
  /** False while the channel is down: caches must not serve from memory then. */
  readonly connected: boolean;
  publish(message: string): Promise<void>;
  onMessage(handler: (message: string) => void): void;
  /** Called when messages may have been missed (channel lost or re-established). */
  onReset(handler: () => void): void;
  /** Resolves once every message published (by anyone) before the call has been handled here. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface UserStateCacheOptions {
  /** Upper bound on staleness should a change ever bypass the store (e.g. manual SQL). */
  ttlMs: number;
  maxEntries?: number;
}

export interface CachedStore extends Store {
  /** Waits until every invalidation published before now has reached this process. */
  syncInvalidations(): Promise<void>;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

/**
 * Keeps the two reads of every authenticated request (the session and the user)
 * in process memory, so checking a token costs no database round trip. Every
 * write that can change those records drops them here at once and tells every
 * other process through the bus, so a revocation reaches all instances within
 * one notification delivery. Everything else passes straight to the store.
 */
export function withUserStateCache(inner: Store, bus: InvalidationBus, options: UserStateCacheOptions): CachedStore {
  const maxEntries = options.maxEntries ?? 50_000;
  const users = new Map<string, Entry<UserRecord>>();
  const sessions = new Map<string, Entry<SessionRecord>>();
  // Bumped by every invalidation: a read that raced with one must not store what it read.
  let generation = 0;

  const dropAll = () => {
    generation += 1;
    users.clear();
    sessions.clear();
  };
  const apply = (message: string) => {
    generation += 1;
    const [kind, id = ''] = message.split(':', 2);
    if (kind === 'user') users.delete(id);
    else if (kind === 'session') sessions.delete(id);
    else if (kind === 'user-sessions') {
      for (const [sid, entry] of sessions) if (entry.value.userId === id) sessions.delete(sid);
    } else dropAll();
  };
  bus.onMessage(apply);
  bus.onReset(dropAll);

  const invalidate = async (...messages: string[]) => {
    for (const message of messages) apply(message);
    await Promise.all(messages.map((m) => bus.publish(m)));
  };

  async function readThrough<T extends { id: string }>(
    cache: Map<string, Entry<T>>,
    id: string,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    const now = Date.now();
    const hit = cache.get(id);
    // Served as is, not copied: cached records are frozen, so no caller can change them
    // for the next one (a copy per hit cost more than the rest of the lookup).
    if (hit && hit.expiresAt > now && bus.connected) return hit.value;
    const seen = generation;
    const value = await load();
    if (value !== null && bus.connected && generation === seen) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(id, { value: deepFreeze(structuredClone(value)), expiresAt: now + options.ttlMs });
    }
    return value;
  }

  const overrides: Partial<CachedStore> = {
    getUserById: (id) => readThrough(users, id, () => inner.getUserById(id)),
    getSession: (id) => readThrough(sessions, id, () => inner.getSession(id)),
    async updateUser(id, patch) {
      const result = await inner.updateUser(id, patch);
      await invalidate(`user:${id}`);
      return result;
    },
    async deleteUser(id) {
      const result = await inner.deleteUser(id);
      await invalidate(`user:${id}`, `user-sessions:${id}`);
      return result;
    },
    async addToBalance(id, delta) {
      const result = await inner.addToBalance(id, delta);
      await invalidate(`user:${id}`);
      return result;
    },
    async revokeSession(id, reason, now) {
      const result = await inner.revokeSession(id, reason, now);
      await invalidate(`session:${id}`);
      return result;
    },
    async revokeUserSessions(userId, reason, now) {
      const result = await inner.revokeUserSessions(userId, reason, now);
      await invalidate(`user-sessions:${userId}`);
      return result;
    },
    async rotateRefreshToken(oldHash, newHash, expiresAt, now) {
      const result = await inner.rotateRefreshToken(oldHash, newHash, expiresAt, now);
      if (result.status !== 'invalid') await invalidate(`session:${result.session.id}`);
      return result;
    },
    async cleanup(now) {
      const removed = await inner.cleanup(now);
      await invalidate('all');
      return removed;
    },
    syncInvalidations: () => bus.sync(),
    async close() {
      await bus.close();
      await inner.close();
    },
  };

  // A Proxy rather than a class listing every method: new store methods pass through
  // untouched, and only the ones above (the reads we cache and the writes that change
  // them) behave differently.
  return new Proxy(inner as CachedStore, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(overrides, property)) {
        return overrides[property as keyof CachedStore];
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Freezes `value` and every object in it (Dates included: their fields, not their time). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
}
