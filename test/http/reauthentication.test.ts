/**
 * "Safe on the internet, round two", point 7: change-password is no longer an unlimited
 * password oracle (its guesses share the account's login throttle and are audited), and
 * changing the email needs current_password or a password login within 5 minutes,
 * which the access token's auth_time tells (kept unchanged across refreshes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  type TestGatekeeper,
  type Tokens,
} from '../support/app.js';
import { testClock } from '../support/clock.js';

const WRONG = 'Wr0ng-Password!';
const NEW_PASSWORD = 'An0ther-Secret!';

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

describe.each(BACKENDS)('re-authentication (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  let n = 0;
  const fresh = () => `reauth_${++n}`;
  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const changePassword = (tokens: Tokens, current: string) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/change-password',
      headers: bearer(tokens.access_token),
      payload: { current_password: current, new_password: NEW_PASSWORD },
    });
  const updateMe = (tokens: Tokens, payload: Record<string, unknown>) =>
    gk.app.inject({ method: 'PUT', url: '/auth/me', headers: bearer(tokens.access_token), payload });

  it('change-password guesses count against the login throttle: 429 past 5, even for the right one, and audited', async () => {
    const name = fresh();
    await register(gk.app, name);
    const tokens = await login(gk.app, name);
    for (let i = 0; i < 5; i += 1) expectError(await changePassword(tokens, WRONG), 400, 'INVALID_PASSWORD');
    for (let i = 0; i < 7; i += 1) expectError(await changePassword(tokens, WRONG), 429, 'TOO_MANY_ATTEMPTS');
    const right = await changePassword(tokens, STRONG_PASSWORD);
    expectError(right, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // One counter per account, whichever endpoint guesses: login is locked too.
    expectError(
      await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: name, password: STRONG_PASSWORD },
      }),
      429,
      'TOO_MANY_ATTEMPTS',
    );
    const admin = await adminTokens(gk, `admin_${n}`);
    const audit = await gk.app.inject({
      method: 'GET',
      url: `/auth/audit?user=${name}&event=reauth.failure`,
      headers: bearer(admin.access_token),
    });
    const rows = json(audit) as unknown as Array<{ detail: { action: string; reason: string; refusals?: number } }>;
    expect(rows.filter((r) => r.detail.reason === 'wrong-password')).toHaveLength(5);
    expect(rows.every((r) => r.detail.action === 'change-password')).toBe(true);
    const throttled = rows.filter((r) => r.detail.reason === 'throttled');
    expect(throttled.length).toBeGreaterThan(0);
    // Once the window has passed, the right password works.
    clock.advance(gk.config.loginWindowSeconds);
    const later = await login(gk.app, name);
    expect((await changePassword(later, STRONG_PASSWORD)).statusCode).toBe(200);
  });

  it('an email change needs current_password once the login is over 5 minutes old; other fields do not', async () => {
    const name = fresh();
    await register(gk.app, name, { email: `${name}@example.com` });
    const tokens = await login(gk.app, name);
    // Just logged in: no password needed.
    expect((await updateMe(tokens, { email: `${name}.1@example.com` })).statusCode).toBe(200);
    clock.advance(301);
    expectError(await updateMe(tokens, { email: `${name}.2@example.com` }), 403, 'REAUTHENTICATION_REQUIRED');
    // The same address in another case is no change; other fields need no password.
    expect((await updateMe(tokens, { email: `${name.toUpperCase()}.1@example.com` })).statusCode).toBe(200);
    expect((await updateMe(tokens, { metadata: { theme: 'dark' } })).statusCode).toBe(200);
    expectError(
      await updateMe(tokens, { email: `${name}.2@example.com`, current_password: WRONG }),
      400,
      'INVALID_PASSWORD',
    );
    const changed = await updateMe(tokens, { email: `${name}.2@example.com`, current_password: STRONG_PASSWORD });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(json(changed).email).toBe(`${name}.2@example.com`);
    expect(changed.body).not.toContain(STRONG_PASSWORD);
  });

  it('wrong current_password on PUT /auth/me counts against the same account budget as login', async () => {
    const name = fresh();
    await register(gk.app, name);
    const tokens = await login(gk.app, name);
    for (let i = 0; i < 3; i += 1) {
      await gk.app.inject({ method: 'POST', url: '/auth/login', payload: { username: name, password: WRONG } });
    }
    for (let i = 0; i < 2; i += 1) {
      expectError(
        await updateMe(tokens, { email: `${name}@example.org`, current_password: WRONG }),
        400,
        'INVALID_PASSWORD',
      );
    }
    expectError(
      await updateMe(tokens, { email: `${name}@example.org`, current_password: STRONG_PASSWORD }),
      429,
      'TOO_MANY_ATTEMPTS',
    );
  });

  it('auth_time is the password login and a refresh keeps it, so a refreshed token cannot change the email', async () => {
    const name = fresh();
    await register(gk.app, name);
    const loginAt = Math.floor(clock.now().getTime() / 1000);
    const first = await login(gk.app, name);
    expect(payloadOf(first.access_token).auth_time).toBe(loginAt);
    clock.advance(600);
    const refreshed = await gk.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    const tokens = json(refreshed) as unknown as Tokens;
    expect(payloadOf(tokens.access_token).auth_time).toBe(loginAt);
    expect(payloadOf(tokens.access_token).iat).toBe(loginAt + 600);
    expectError(await updateMe(tokens, { email: `${name}@example.net` }), 403, 'REAUTHENTICATION_REQUIRED');
  });
});
