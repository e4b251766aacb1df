import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { createNotificationBus } from '../../src/store/postgres/notifications.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { withUserStateCache, type CachedStore, type InvalidationBus } from '../../src/store/user-state-cache.js';

/** Counts the reads that reach the real store, to tell cache hits from misses. */
function counting(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'getSession' || property === 'getUserById') {
        return (...args: unknown[]) => {
          reads += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { store: proxy, reads: () => reads };
}

/** Polls `condition` until it holds, failing after `timeoutMs`: waiting on the event itself, not a guess at its timing. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('per-process user-state cache over PostgreSQL LISTEN/NOTIFY', () => {
  let database: { url: string; drop(): Promise<void> };
  let a: CachedStore;
  let b: CachedStore;
  let bReads: () => number;
  let bBus: InvalidationBus;

  beforeAll(async () => {
    database = await createTestDatabase();
    const settings = testConfig({ DATABASE_URL: database.url, GATEKEEPER_BACKEND: 'postgres' }).database;
    const open = async () => {
      const counted = counting(await openPostgresStore({ database: settings }));
      const bus = await createNotificationBus(settings);
      return { store: withUserStateCache(counted.store, bus, { ttlMs: 60_000 }), reads: counted.reads, bus };
    };
    a = (await open()).store;
    const opened = await open();
    b = opened.store;
    bReads = opened.reads;
    bBus = opened.bus;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  async function userWithSession() {
    const user = await a.createUser({ username: `u${randomUUID().slice(0, 8)}`, passwordHash: 'h' });
    const now = new Date();
    const session = await a.createSession({
      id: randomUUID(),
      userId: user.id,
      refreshTokenHash: randomUUID(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
    });
    return { user, session };
  }

  it('serves repeated reads from memory', async () => {
    const { user, session } = await userWithSession();
    const before = bReads();
    for (let i = 0; i < 5; i += 1) {
      expect((await b.getSession(session.id))?.id).toBe(session.id);
      expect((await b.getUserById(user.id))?.id).toBe(user.id);
    }
    expect(bReads() - before).toBe(2);
  });

  it('serves hits as frozen records, so no caller can change what the next one reads', async () => {
    const { user, session } = await userWithSession();
    const first = (await b.getUserById(user.id))!;
    const hit = (await b.getUserById(user.id))!;
    expect(Object.isFrozen(hit)).toBe(true);
    expect(Object.isFrozen(hit.metadata)).toBe(true);
    expect(() => {
      (hit as { role: string }).role = 'admin';
    }).toThrow(TypeError);
    expect((await b.getUserById(user.id))!.role).toBe(first.role);
    await b.getSession(session.id);
    expect(Object.isFrozen(await b.getSession(session.id))).toBe(true);
  });

  it('a revocation on one instance reaches the cache of another', async () => {
    const { user, session } = await userWithSession();
    expect((await b.getSession(session.id))?.revokedAt).toBeNull();
    await a.revokeSession(session.id, 'logout', new Date());
    await b.syncInvalidations();
    expect((await b.getSession(session.id))?.revokedAt).not.toBeNull();

    const other = await userWithSession();
    expect((await b.getSession(other.session.id))?.revokedAt).toBeNull();
    await a.revokeUserSessions(other.user.id, 'admin', new Date());
    await b.syncInvalidations();
    expect((await b.getSession(other.session.id))?.revokedAt).not.toBeNull();

    expect((await b.getUserById(user.id))?.isActive).toBe(true);
    await a.updateUser(user.id, { isActive: false });
    await b.syncInvalidations();
    expect((await b.getUserById(user.id))?.isActive).toBe(false);

    await a.addToBalance(user.id, 5);
    await b.syncInvalidations();
    expect((await b.getUserById(user.id))?.yapcoinBalance).toBe(5);

    await a.deleteUser(user.id);
    await b.syncInvalidations();
    expect(await b.getUserById(user.id)).toBeNull();
  });

  it("the writer's own cache is updated before the write returns", async () => {
    const { user, session } = await userWithSession();
    await a.getSession(session.id);
    await a.getUserById(user.id);
    await a.revokeSession(session.id, 'logout', new Date());
    expect((await a.getSession(session.id))?.revokedAt).not.toBeNull();
    await a.updateUser(user.id, { role: 'guest' });
    expect((await a.getUserById(user.id))?.role).toBe('guest');
  });

  it('returns copies: a caller mutating a record does not change the cache', async () => {
    const { user } = await userWithSession();
    const first = await b.getUserById(user.id);
    first!.role = 'admin';
    expect((await b.getUserById(user.id))?.role).toBe('regular');
  });

  it('stops serving from memory while its notification channel is down, and recovers', async () => {
    const { session } = await userWithSession();
    await b.getSession(session.id);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Kill every LISTEN connection: caches must not trust memory they can no longer keep in sync.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gatekeeper-notify'`,
      );
      // b must have noticed the loss before the revocation, or it would still trust its memory.
      await until(() => !bBus.connected, "b's notification channel is seen down");
      await a.revokeSession(session.id, 'logout', new Date());
      expect((await b.getSession(session.id))?.revokedAt).not.toBeNull();
      const before = bReads();
      await b.getSession(session.id);
      expect(bReads() - before).toBe(1);
      // The channel comes back by itself; then reads are cached again.
      await until(() => bBus.connected, "b's notification channel is back");
      const n = bReads();
      await b.getSession(session.id);
      await b.getSession(session.id);
      expect(bReads() - n).toBe(1);
    } finally {
      await admin.end();
    }
  });
});
