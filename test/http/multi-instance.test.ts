import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import { startEmbeddedPostgres } from '../../src/store/postgres/embedded.js';
import type { CachedStore } from '../../src/store/user-state-cache.js';
import { createTestDatabase } from '../support/database.js';
import { CHEAP_HASH, STRONG_PASSWORD, bearer, expectError, json, login, register, testConfig } from '../support/app.js';

async function settle(gk: Gatekeeper): Promise<void> {
  const store = gk.store as Partial<CachedStore>;
  await store.syncInvalidations?.();
}

describe('several instances on one PostgreSQL database', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('three instances starting at once on an empty database all come up and share users, secret and sessions', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    // No GATEKEEPER_SECRET_KEY: the instances must agree on the one generated secret.
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      GATEKEEPER_SECRET_KEY: '',
      // No grace window: the second refresh below is reuse at once (the window has its own tests).
      GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '0',
    });
    const instances: Gatekeeper[] = await Promise.all(
      [1, 2, 3].map(() => buildGatekeeper(config, { hashParams: CHEAP_HASH })),
    );
    for (const gk of instances) cleanups.push(() => gk.close());
    const [a, b, c] = instances as [Gatekeeper, Gatekeeper, Gatekeeper];

    await register(a.app, 'shared_user');
    const tokens = await login(b.app, 'shared_user');
    const me = await c.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) });
    expect(me.statusCode).toBe(200);
    expect(json(me).username).toBe('shared_user');

    // Every instance has the session in its cache now.
    for (const gk of [a, b]) {
      expect(
        (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode,
      ).toBe(200);
    }
    // Log out on one instance: the token is refused on the others at once.
    expect(
      (await c.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) })).statusCode,
    ).toBe(200);
    for (const gk of [a, b]) {
      // Revocations reach other instances within one LISTEN/NOTIFY delivery: wait for exactly that, no sleeping.
      await settle(gk);
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
    }
    // Refresh rotation on one, reuse detected on another.
    const second = await login(a.app, 'shared_user');
    const rotated = await b.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: second.refresh_token },
    });
    expect(rotated.statusCode).toBe(200);
    expectError(
      await c.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: second.refresh_token } }),
      401,
      'INVALID_REFRESH_TOKEN',
    );
  });

  it('concurrent registrations of one username across instances give exactly one 201', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const config = testConfig({ GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url });
    const [a, b] = await Promise.all([1, 2].map(() => buildGatekeeper(config, { hashParams: CHEAP_HASH })));
    cleanups.push(
      () => a!.close(),
      () => b!.close(),
    );
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a! : b!).app.inject({
          method: 'POST',
          url: '/auth/register',
          payload: { username: 'contested', password: STRONG_PASSWORD },
        }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(7);
  });
});

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is down and recovers by itself when it is back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gk-outage-'));
    let server = await startEmbeddedPostgres({ dataDir });
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: server.url,
      POSTGRES_POOL_TIMEOUT: '2',
    });
    const gk = await buildGatekeeper(config, { hashParams: CHEAP_HASH });
    try {
      await register(gk.app, 'outage_user');
      await server.stop();

      const health = await gk.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.headers['retry-after']).toBeDefined();
      const body = json(health) as { status: string; database: { reachable: boolean; error: string } };
      expect(body.status).toBe('unavailable');
      expect(body.database.reachable).toBe(false);
      expect(body.database.error).toMatch(/Is PostgreSQL running/);
      expect(body.database.error).not.toContain(new URL(server.url).password);

      const refused = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'outage_user', password: STRONG_PASSWORD },
      });
      expectError(refused, 503, 'DATABASE_UNAVAILABLE');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await gk.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

      server = await startEmbeddedPostgres({ dataDir });
      expect(server.url).toBe(config.database.url); // same port and credentials: the pool can reconnect
      const back = await gk.app.inject({ method: 'GET', url: '/health' });
      expect(back.statusCode, back.body).toBe(200);
      await login(gk.app, 'outage_user');
    } finally {
      await gk.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
