/**
 * Issue 5: nothing that matters is kept only in process memory. Two app instances on
 * one PostgreSQL database share revocations, failure counters, signing keys and the
 * audit trail, and all of it survives a restart.
 */
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/auth/key-ring.js';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import {
  CHEAP_HASH,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  expectError,
  json,
  login,
  register,
  testConfig,
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const WRONG = 'Wr0ng-Password!';

describe('two instances on one PostgreSQL database, and restarts', () => {
  let database: TestDatabase;
  const clock: TestClock = testClock();
  const open: Gatekeeper[] = [];

  const start = async (env: Record<string, string> = {}, now: () => Date = clock.now): Promise<Gatekeeper> => {
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
      ...env,
    });
    const gk = await buildGatekeeper(config, { hashParams: CHEAP_HASH, now });
    open.push(gk);
    return gk;
  };
  const stop = async (gk: Gatekeeper) => {
    open.splice(open.indexOf(gk), 1);
    await gk.close();
  };
  const me = (gk: Gatekeeper, token: string) =>
    gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) });
  const attempt = (gk: Gatekeeper, username: string, password: string) =>
    gk.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress: '192.0.2.7' });
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const gk of [...open]) await gk.close();
    await database?.drop();
  });

  it('instances starting together agree on one signing key; each verifies the tokens of the other', async () => {
    const [a, b, c] = await Promise.all([start(), start(), start()]);
    const kids = await Promise.all(
      [a!, b!, c!].map(async (gk) => {
        const res = await gk.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
        return (json(res) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      }),
    );
    expect(new Set(kids.flat()).size).toBe(1);
    await stop(c!);
    await register(a!.app, 'shared');
    const tokens = await login(a!.app, 'shared');
    expect((await me(b!, tokens.access_token)).statusCode).toBe(200);
    const fromB = await login(b!.app, 'shared');
    expect((await me(a!, fromB.access_token)).statusCode).toBe(200);
    await Promise.all([stop(a!), stop(b!)]);
  });

  it('a logout on one instance is refused on the other at once', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    await register(a!.app, 'leaver');
    const tokens = await login(a!.app, 'leaver');
    expect((await me(b!, tokens.access_token)).statusCode).toBe(200);
    const out = await a!.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) });
    expect(out.statusCode).toBe(200);
    expectError(await me(b!, tokens.access_token), 401, 'TOKEN_REVOKED');
    expectError(
      await b!.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } }),
      401,
      'INVALID_REFRESH_TOKEN',
    );
    await Promise.all([stop(a!), stop(b!)]);
  });

  it('failed logins are counted across instances and the lock survives a restart of both', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    await register(a!.app, 'target');
    for (let i = 0; i < 5; i += 1) {
      expectError(await attempt(i % 2 ? a! : b!, 'target', WRONG), 401, 'INVALID_CREDENTIALS');
    }
    expectError(await attempt(a!, 'target', STRONG_PASSWORD), 429, 'TOO_MANY_ATTEMPTS');
    expectError(await attempt(b!, 'target', STRONG_PASSWORD), 429, 'TOO_MANY_ATTEMPTS');
    clock.advance(1);
    expectError(await attempt(b!, 'target', WRONG), 401, 'INVALID_CREDENTIALS'); // 6th failure: 2 s now
    await Promise.all([stop(a!), stop(b!)]);

    const c = await start();
    const locked = await attempt(c, 'target', STRONG_PASSWORD);
    expectError(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(locked.headers['retry-after']).toBe('2');
    clock.advance(2);
    expect((await attempt(c, 'target', STRONG_PASSWORD)).statusCode).toBe(200);
    await stop(c);
  });

  it('signing keys survive a restart, and a rotation made elsewhere reaches every instance', async () => {
    const a = await start();
    await register(a.app, 'keeper');
    const early = await login(a.app, 'keeper');
    await stop(a);

    const b = await start();
    expect((await me(b, early.access_token)).statusCode).toBe(200);
    expect(kidOf((await login(b.app, 'keeper')).access_token)).toBe(kidOf(early.access_token));
    const c = await start();
    // `gatekeeper keys rotate` (or any instance) rotates through the store.
    const rotation = await rotateSigningKey(c.store, 'EdDSA', { now: clock.now() });
    // b has not reloaded yet: it still signs with the old key, which everyone still accepts.
    const stale = await login(b.app, 'keeper');
    expect(kidOf(stale.access_token)).toBe(rotation.previousKid);
    expect((await me(c, stale.access_token)).statusCode).toBe(200);
    clock.advance(61);
    const fresh = await login(b.app, 'keeper');
    expect(kidOf(fresh.access_token)).toBe(rotation.kid);
    expect((await me(c, fresh.access_token)).statusCode).toBe(200);
    expect((await me(c, early.access_token)).statusCode).toBe(200);
    await Promise.all([stop(b), stop(c)]);
  });

  it('the audit trail survives a restart and is purged at start once past retention', async () => {
    const a = await start();
    await register(a.app, 'historian');
    await login(a.app, 'historian');
    await stop(a);

    const b = await start();
    const admin = await adminTokens(b, 'audit_admin');
    const res = await b.app.inject({
      method: 'GET',
      url: '/auth/audit?user=historian',
      headers: bearer(admin.access_token),
    });
    expect((json(res) as unknown as Array<{ event: string }>).map((e) => e.event)).toEqual([
      'login.success',
      'register',
    ]);
    await stop(b);

    // Ninety-one days later (the default retention is 90), a start purges them.
    const later = testClock(new Date(clock.now().getTime() + 91 * 86_400_000));
    const c = await start({}, later.now);
    expect(await c.store.listAuditEvents({ username: 'historian', limit: 10 })).toEqual([]);
    await stop(c);
  });
});
