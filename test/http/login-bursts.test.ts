/**
 * "Safe on the internet, round two", points 1 and 3: a burst of guesses cannot pass the
 * account threshold (the attempt is charged before it is verified, atomically, on every
 * instance), and an address past its own limit slows its guessers without refusing
 * anybody's correct password. A test clock moves time; nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import { PasswordHasher } from '../../src/security/password-hasher.js';
import { createTestDatabase } from '../support/database.js';
import {
  BACKENDS,
  CHEAP_HASH,
  STRONG_PASSWORD,
  adminTokens,
  expectError,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock } from '../support/clock.js';

const WRONG = 'Wr0ng-Password!';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a burst of guesses on one account, two instances on one PostgreSQL database', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('40 concurrent wrong passwords get at most 5 verifications (the threshold), and then the account is locked', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const clock = testClock();
    const config = testConfig({ GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url });
    const instances: Gatekeeper[] = await Promise.all(
      [1, 2].map(() => buildGatekeeper(config, { hashParams: CHEAP_HASH, now: clock.now })),
    );
    for (const gk of instances) cleanups.push(() => gk.close());
    const [a, b] = instances as [Gatekeeper, Gatekeeper];
    await register(a.app, 'burst_target');

    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { username: 'burst_target', password: WRONG },
          remoteAddress: `198.51.100.${i + 1}`,
        }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(verify.mock.calls.length).toBeLessThanOrEqual(config.loginAccountMaxFailures);
    expect(statuses.filter((s) => s === 401).length).toBe(verify.mock.calls.length);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // Refused attempts are 429 (locked) or 503 (the account's share of one instance's hash queue): never a 5xx else.
    expect(statuses.every((s) => s === 401 || s === 429 || s === 503)).toBe(true);
    for (const r of responses.filter((r) => r.statusCode === 429)) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // The burst locked the account on both instances, right password or not.
    for (const gk of [a, b]) {
      const owner = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'burst_target', password: STRONG_PASSWORD },
        remoteAddress: '192.0.2.200',
      });
      expectError(owner, 429, 'TOO_MANY_ATTEMPTS');
    }
    expect(verify.mock.calls.length).toBeLessThanOrEqual(config.loginAccountMaxFailures);
  });
});

describe.each(BACKENDS)('one address past its limit (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const attempt = (username: string, password: string, ip: string) =>
    gk.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress: ip });

  it('50 junk logins from a shared proxy address do not lock the admin out: the right password gets 200', async () => {
    await adminTokens(gk, 'proxy_admin');
    const proxy = '203.0.113.50';
    for (let i = 0; i < 50; i += 1) expectError(await attempt(`junk_${i}`, WRONG, proxy), 401, 'INVALID_CREDENTIALS');
    // The guesser from that address is slowed: its failures are 429 with Retry-After, and still verified and counted…
    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const guess = await attempt('proxy_admin', WRONG, proxy);
    expectError(guess, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(guess.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(verify).toHaveBeenCalledTimes(1);
    // …while the admin, behind the same address, signs in.
    expect((await attempt('proxy_admin', STRONG_PASSWORD, proxy)).statusCode).toBe(200);
    // The per-account limit is unchanged: a locked account stays locked, whatever the address.
    for (let i = 0; i < 5; i += 1) await attempt('proxy_admin', WRONG, '198.51.100.77');
    expectError(await attempt('proxy_admin', STRONG_PASSWORD, '192.0.2.78'), 429, 'TOO_MANY_ATTEMPTS');
    clock.advance(gk.config.loginWindowSeconds);
    expect((await attempt('proxy_admin', STRONG_PASSWORD, proxy)).statusCode).toBe(200);
  });
});
