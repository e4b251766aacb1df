/**
 * "Safe on the internet, round two", point 6: the answers that tell whether an account
 * exists (409 USERNAME_TAKEN / EMAIL_TAKEN from registration and PUT /auth/me) are
 * limited per client address: 20 per login window, then 429 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  expectError,
  login,
  register,
  startGatekeeper,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock } from '../support/clock.js';

describe.each(BACKENDS)('enumeration through registration (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
    await register(gk.app, 'existing', { email: 'existing@example.com' });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const registerFrom = (ip: string, payload: Record<string, unknown>) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      remoteAddress: ip,
      payload: { password: STRONG_PASSWORD, ...payload },
    });

  it('20 taken-name answers per address and window, then 429 for that address only', async () => {
    const prober = '203.0.113.99';
    for (let i = 0; i < 10; i += 1)
      expectError(await registerFrom(prober, { username: 'EXISTING' }), 409, 'USERNAME_TAKEN');
    for (let i = 0; i < 10; i += 1) {
      const res = await registerFrom(prober, { username: `free_${i}`, email: 'existing@example.com' });
      expectError(res, 409, 'EMAIL_TAKEN');
    }
    const refused = await registerFrom(prober, { username: 'existing' });
    expectError(refused, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(gk.config.loginWindowSeconds);
    // Free names from that address wait too: the answer is the same whatever the name.
    expectError(await registerFrom(prober, { username: 'brand_new' }), 429, 'TOO_MANY_ATTEMPTS');
    // Another address is not affected; an admin is never limited.
    expectError(await registerFrom('198.51.100.1', { username: 'existing' }), 409, 'USERNAME_TAKEN');
    expect((await registerFrom('198.51.100.1', { username: 'brand_new' })).statusCode).toBe(201);
    const admin = await adminTokens(gk, 'enum_admin');
    const byAdmin = await gk.app.inject({
      method: 'POST',
      url: '/auth/users',
      remoteAddress: prober,
      headers: bearer(admin.access_token),
      payload: { username: 'existing', password: STRONG_PASSWORD },
    });
    expectError(byAdmin, 409, 'USERNAME_TAKEN');
    // The window ends: the address may try again.
    clock.advance(gk.config.loginWindowSeconds);
    expect((await registerFrom(prober, { username: 'brand_new_2' })).statusCode).toBe(201);
  });

  it('EMAIL_TAKEN through PUT /auth/me counts against the same address budget', async () => {
    const ip = '192.0.2.150';
    await register(gk.app, 'mover');
    const tokens = await login(gk.app, 'mover');
    const move = (email: string) =>
      gk.app.inject({
        method: 'PUT',
        url: '/auth/me',
        remoteAddress: ip,
        headers: bearer(tokens.access_token),
        payload: { email },
      });
    for (let i = 0; i < 20; i += 1) expectError(await move('existing@example.com'), 409, 'EMAIL_TAKEN');
    expectError(await move('existing@example.com'), 429, 'TOO_MANY_ATTEMPTS');
    expectError(await registerFrom(ip, { username: 'existing' }), 429, 'TOO_MANY_ATTEMPTS');
  });
});
