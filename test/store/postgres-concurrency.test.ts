import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const HOUR = 3_600_000;

let db: TestDatabase;
let stores: Store[];
let sql: pg.Client;

/** Two stores with separate pools (two Gatekeeper processes), each with real parallel connections. */
beforeAll(async () => {
  db = await createTestDatabase();
  const database = {
    url: db.url,
    sslMode: null,
    sslRootCert: null,
    poolSize: 10,
    maxOverflow: 0,
    poolTimeoutSeconds: 20,
    echo: false,
  };
  stores = [await openPostgresStore({ database }), await openPostgresStore({ database })];
  // Open every connection now, so the tests race on warm connections rather than on connection set-up.
  await Promise.all(stores.flatMap((store) => Array.from({ length: 10 }, () => store.health())));
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await Promise.all((stores ?? []).map((s) => s.close()));
  await sql?.end();
  await db?.drop();
});

beforeEach(async () => {
  await sql.query('TRUNCATE users, sessions, refresh_tokens, settings CASCADE');
});

/** Alternates calls between the two stores. */
const on = (i: number): Store => stores[i % 2]!;

describe('PostgreSQL store under concurrency', () => {
  it('50 parallel +1/-1 balance changes from two processes lose no update', async () => {
    const user = await on(0).createUser({ username: 'coins', passwordHash: 'h', yapcoinBalance: 5 });
    const deltas = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? -1 : 1)); // 40 × +1, 10 × -1
    await Promise.all(deltas.map((delta, i) => on(i).addToBalance(user.id, delta)));
    expect((await on(1).getUserById(user.id))?.yapcoinBalance).toBe(5 + 40 - 10);
  });

  it('parallel withdrawals never take the balance below zero', async () => {
    const user = await on(0).createUser({ username: 'spender', passwordHash: 'h', yapcoinBalance: 10 });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => on(i).addToBalance(user.id, -1)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as GatekeeperError).code).toBe('INSUFFICIENT_BALANCE');
    }
    expect((await on(0).getUserById(user.id))?.yapcoinBalance).toBe(0);
  });

  it('concurrent rotations of one refresh token: exactly one rotates, the others see reuse', async () => {
    const user = await on(0).createUser({ username: 'rotator', passwordHash: 'h' });
    const now = new Date();
    const session = await on(0).createSession({
      id: randomUUID(),
      userId: user.id,
      refreshTokenHash: 'race-0',
      createdAt: now,
      expiresAt: new Date(now.getTime() + HOUR),
    });
    const later = new Date(now.getTime() + 2 * HOUR);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => on(i).rotateRefreshToken('race-0', `race-${i + 1}`, later, now)),
    );
    expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'reused')).toHaveLength(11);
    const { rows } = await sql.query(
      'SELECT count(*)::int AS n, count(used_at)::int AS used FROM refresh_tokens WHERE session_id = $1',
      [session.id],
    );
    expect(rows[0]).toEqual({ n: 2, used: 1 });
  });

  it('rotations racing with cleanup and revocation neither deadlock nor fail', async () => {
    const user = await on(0).createUser({ username: 'busy', passwordHash: 'h' });
    const now = new Date();
    const later = new Date(now.getTime() + HOUR);
    const hashes = Array.from({ length: 10 }, (_, i) => `busy-${i}`);
    for (const hash of hashes) {
      await on(0).createSession({
        id: randomUUID(),
        userId: user.id,
        refreshTokenHash: hash,
        createdAt: now,
        expiresAt: later,
      });
    }
    const work = [
      ...hashes.map((hash, i) => on(i).rotateRefreshToken(hash, `${hash}-next`, later, now)),
      on(0).revokeUserSessions(user.id, 'logout-all', now),
      on(1).cleanup(now),
      on(0).cleanup(now),
    ];
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await on(0).countActiveSessions(now)).toBe(0);
  });

  it('concurrent demotions of the only two admins: exactly one succeeds, the other gets LAST_ADMIN', async () => {
    for (let round = 0; round < 5; round += 1) {
      await sql.query('TRUNCATE users CASCADE');
      const a = await on(0).createUser({ username: `admin_a${round}`, passwordHash: 'h', role: 'admin' });
      const b = await on(0).createUser({ username: `admin_b${round}`, passwordHash: 'h', role: 'admin' });
      const results = await Promise.allSettled([
        on(0).updateUser(a.id, { role: 'regular' }),
        on(1).updateUser(b.id, { isActive: false }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: 'LAST_ADMIN' });
      expect(await on(1).countActiveAdmins()).toBe(1);
    }
  });

  it('concurrent deletion and demotion of the only two admins leave one active admin', async () => {
    const a = await on(0).createUser({ username: 'admin_del', passwordHash: 'h', role: 'admin' });
    const b = await on(0).createUser({ username: 'admin_dem', passwordHash: 'h', role: 'admin' });
    const results = await Promise.allSettled([on(0).deleteUser(a.id), on(1).updateUser(b.id, { role: 'guest' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await on(0).countActiveAdmins()).toBe(1);
  });

  it('concurrent putSettingIfAbsent() from two processes agree on the first value', async () => {
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => on(i).putSettingIfAbsent('secret', `v${i}`)));
    expect(new Set(values).size).toBe(1);
    expect(await on(1).getSetting('secret')).toBe(values[0]);
  });
});
