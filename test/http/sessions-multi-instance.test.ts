/**
 * Issue 14 on shared state: two instances on one PostgreSQL database (each with its user-state
 * cache and the LISTEN/NOTIFY invalidations), one injectable clock for both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import type { CachedStore } from '../../src/store/user-state-cache.js';
import { createTestDatabase } from '../support/database.js';
import { testClock, type TestClock } from '../support/clock.js';
import {
  CHEAP_HASH,
  adminTokens,
  bearer,
  expectError,
  json,
  login,
  register,
  testConfig,
  type Tokens,
} from '../support/app.js';

async function settle(gk: Gatekeeper): Promise<void> {
  await (gk.store as Partial<CachedStore>).syncInvalidations?.();
}

function refresh(app: FastifyInstance, refreshToken: string) {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: refreshToken } });
}

function me(app: FastifyInstance, tokens: Tokens) {
  return app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) });
}

describe('sessions on two instances sharing one PostgreSQL database', () => {
  let a: Gatekeeper;
  let b: Gatekeeper;
  let clock: TestClock;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = () => database.drop();
    clock = testClock();
    // No GATEKEEPER_SECRET_KEY: nothing shared but the database.
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      GATEKEEPER_SECRET_KEY: '',
    });
    [a, b] = (await Promise.all(
      [1, 2].map(() => buildGatekeeper(config, { hashParams: CHEAP_HASH, now: clock.now })),
    )) as [Gatekeeper, Gatekeeper];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('the first refreshes ever, 20 at once split over both instances: all succeed, one token, one live session', async () => {
    // The first refresh of the deployment: both instances create the successor secret at once and must agree.
    await register(a.app, 'split_burst');
    const t0 = await login(a.app, 'split_burst');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refresh((i % 2 ? a : b).app, t0.refresh_token)),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, () => 200));
    const tokens = new Set(answers.map((r) => (json(r) as unknown as Tokens).refresh_token));
    expect(tokens.size).toBe(1);
    const admin = await adminTokens(a);
    for (const gk of [a, b]) {
      const listed = await gk.app.inject({
        method: 'GET',
        url: '/auth/users/split_burst/sessions',
        headers: bearer(admin.access_token),
      });
      expect(JSON.parse(listed.body)).toHaveLength(1);
    }
    expect((await refresh(b.app, [...tokens][0]!)).statusCode).toBe(200);
  });

  it('rotated on one instance, presented again on the other within the window: the same current pair', async () => {
    await register(a.app, 'two_tabs');
    const t0 = await login(a.app, 'two_tabs');
    const first = json(await refresh(a.app, t0.refresh_token)) as unknown as Tokens;
    clock.advance(5);
    const second = await refresh(b.app, t0.refresh_token);
    expect(second.statusCode, second.body).toBe(200);
    expect((json(second) as unknown as Tokens).refresh_token).toBe(first.refresh_token);
    // After the window, on the other instance: reuse, and the session is gone on both.
    clock.advance(6);
    expectError(await refresh(b.app, t0.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    await settle(a);
    expectError(await me(a.app, first), 401, 'TOKEN_REVOKED');
    expectError(await refresh(a.app, first.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
  });

  it('a session ended on one instance is refused on the other at once', async () => {
    await register(a.app, 'ended_elsewhere');
    const keep = await login(a.app, 'ended_elsewhere');
    const end = await login(b.app, 'ended_elsewhere');
    // Both instances have the doomed session in their cache.
    for (const gk of [a, b]) expect((await me(gk.app, end)).statusCode).toBe(200);
    const sid = decodeJwt(end.access_token).sid as string;
    const res = await a.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${sid}`,
      headers: bearer(keep.access_token),
    });
    expect(res.statusCode, res.body).toBe(200);
    await settle(b);
    expectError(await me(b.app, end), 401, 'TOKEN_REVOKED');
    expectError(await refresh(b.app, end.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    expect((await me(b.app, keep)).statusCode).toBe(200);
  });
});
