/**
 * Issue 5, point 1: brute-force protection. A test clock moves time instead of sleeping.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PasswordHasher } from '../../src/security/password-hasher.js';
import {
  BACKENDS,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  expectError,
  json,
  register,
  startGatekeeper,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock } from '../support/clock.js';

const WRONG = 'Wr0ng-Password!';

describe.each(BACKENDS)('login throttling (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  let n = 0;
  const fresh = (prefix = 'victim') => `${prefix}_${++n}`;
  let address = 0;
  const freshIp = () => `198.51.100.${++address}`;

  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
  });
  afterAll(async () => {
    await gk?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const attempt = (username: string, password: string, ip = '203.0.113.1', headers: Record<string, string> = {}) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password },
      remoteAddress: ip,
      headers,
    });

  it('answers 429 TOO_MANY_ATTEMPTS with Retry-After past 5 failures, without verifying any password', async () => {
    const name = fresh();
    await register(gk.app, name);
    const ip = freshIp();
    for (let i = 0; i < 5; i += 1) expectError(await attempt(name, WRONG, ip), 401, 'INVALID_CREDENTIALS');
    const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
    const dummy = vi.spyOn(PasswordHasher.prototype, 'verifyDummy');
    const locked = await attempt(name, STRONG_PASSWORD, ip);
    expectError(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(locked.headers['retry-after']).toBe('1');
    // Even the right password is refused while locked, and no Argon2 work was spent on it.
    expect(verify).not.toHaveBeenCalled();
    expect(dummy).not.toHaveBeenCalled();
  });

  it('the delay grows with every further failure, and a success resets the account', async () => {
    const name = fresh();
    await register(gk.app, name);
    const ip = freshIp();
    for (let i = 0; i < 5; i += 1) await attempt(name, WRONG, ip);
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const locked = await attempt(name, WRONG, ip);
      expectError(locked, 429, 'TOO_MANY_ATTEMPTS');
      const seconds = Number(locked.headers['retry-after']);
      delays.push(seconds);
      clock.advance(seconds);
      expectError(await attempt(name, WRONG, ip), 401, 'INVALID_CREDENTIALS');
    }
    expect(delays).toEqual([1, 2, 4, 8]);
    clock.advance(16);
    expect((await attempt(name, STRONG_PASSWORD, ip)).statusCode).toBe(200);
    // The counter is gone: five more mistakes are allowed before the lock.
    for (let i = 0; i < 5; i += 1) expectError(await attempt(name, WRONG, ip), 401, 'INVALID_CREDENTIALS');
    expectError(await attempt(name, WRONG, ip), 429, 'TOO_MANY_ATTEMPTS');
  });

  it('unknown users are throttled the same way, and a username and its email share one budget', async () => {
    const ghost = fresh('ghost');
    for (let i = 0; i < 5; i += 1) expectError(await attempt(ghost, WRONG, freshIp()), 401, 'INVALID_CREDENTIALS');
    expectError(await attempt(ghost, WRONG, freshIp()), 429, 'TOO_MANY_ATTEMPTS');

    const name = fresh();
    await register(gk.app, name, { email: `${name}@example.com` });
    for (let i = 0; i < 3; i += 1) await attempt(name.toUpperCase(), WRONG, freshIp());
    for (let i = 0; i < 2; i += 1) await attempt(`${name}@EXAMPLE.com`, WRONG, freshIp());
    expectError(await attempt(name, STRONG_PASSWORD, freshIp()), 429, 'TOO_MANY_ATTEMPTS');
  });

  it('an attacker hammering one account from many addresses cannot lock its owner out longer than the window', async () => {
    const name = fresh();
    await register(gk.app, name);
    const start = clock.now().getTime();
    const window = gk.config.loginWindowSeconds;
    let longest = 0;
    // The attacker tries again the moment each lock ends, from a new address every time.
    while (clock.now().getTime() - start < window * 1000) {
      const res = await attempt(name, WRONG, freshIp());
      if (res.statusCode === 429) {
        const wait = Number(res.headers['retry-after']);
        longest = Math.max(longest, wait);
        clock.advance(wait);
      } else {
        expectError(res, 401, 'INVALID_CREDENTIALS');
      }
    }
    expect(longest).toBeGreaterThan(100);
    expect(longest).toBeLessThanOrEqual(window);
    // The window of the first failure has closed: the owner gets in.
    expect((await attempt(name, STRONG_PASSWORD, freshIp())).statusCode).toBe(200);
  });

  it('counts failures per client address across accounts (429 for its guesses, not for a right password); X-Forwarded-For is ignored without TRUST_PROXY', async () => {
    const ip = freshIp();
    // 50 failures (the default) spread over 10 accounts: no account reaches its own limit.
    for (let i = 0; i < 50; i += 1) {
      const res = await attempt(`spray_${n}_${i % 10}`, WRONG, ip, { 'x-forwarded-for': `10.9.${i}.1` });
      expectError(res, 401, 'INVALID_CREDENTIALS');
    }
    const name = fresh();
    await register(gk.app, name);
    // The address is past its limit: its guesses are answered 429 (and still counted)…
    const guess = await attempt(name, WRONG, ip, { 'x-forwarded-for': '10.99.0.1' });
    expectError(guess, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(guess.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // …but a correct password of an account that is not itself locked is never refused for its address.
    expect((await attempt(name, STRONG_PASSWORD, ip, { 'x-forwarded-for': '10.99.0.1' })).statusCode).toBe(200);
    expect((await attempt(name, STRONG_PASSWORD, freshIp())).statusCode).toBe(200);
  });

  it('a throttled attempt is in the audit trail with reason "throttled"', async () => {
    const name = fresh();
    await register(gk.app, name);
    const ip = freshIp();
    for (let i = 0; i < 6; i += 1) await attempt(name, WRONG, ip);
    const admin = await adminTokens(gk);
    const res = await gk.app.inject({
      method: 'GET',
      url: `/auth/audit?user=${name}&event=login.failure`,
      headers: bearer(admin.access_token),
    });
    expect(res.statusCode, res.body).toBe(200);
    const reasons = (json(res) as unknown as Array<{ detail: { reason: string }; ip: string }>).map((e) => [
      e.detail.reason,
      e.ip,
    ]);
    expect(reasons).toEqual([['throttled', ip], ...Array.from({ length: 5 }, () => ['wrong-password', ip])]);
  });
});

describe('login throttling behind a proxy', () => {
  let gk: TestGatekeeper;
  beforeAll(async () => {
    gk = await startGatekeeper('memory', { GATEKEEPER_TRUST_PROXY: 'true', GATEKEEPER_LOGIN_IP_MAX_FAILURES: '3' });
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('with GATEKEEPER_TRUST_PROXY the client address comes from X-Forwarded-For', async () => {
    const login = (username: string, client: string) =>
      gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username, password: WRONG },
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': client },
      });
    for (const account of ['a_1', 'a_2', 'a_3'])
      expectError(await login(account, '192.0.2.10'), 401, 'INVALID_CREDENTIALS');
    expectError(await login('a_4', '192.0.2.10'), 429, 'TOO_MANY_ATTEMPTS');
    // Same proxy, another client: its own budget.
    expectError(await login('a_4', '192.0.2.11'), 401, 'INVALID_CREDENTIALS');
  });
});
