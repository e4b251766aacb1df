/**
 * "Safe on the internet, round two", point 2: an admin ends a lockout with
 * POST /auth/users/{username}/unlock (audited as user.unlock).
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

describe.each(BACKENDS)('POST /auth/users/{username}/unlock (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  let admin: Tokens;
  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
    admin = await adminTokens(gk);
  });
  afterAll(async () => {
    await gk?.close();
  });

  const attempt = (username: string, password: string) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password },
      remoteAddress: '198.51.100.9',
    });
  const unlock = (username: string, token = admin.access_token) =>
    gk.app.inject({ method: 'POST', url: `/auth/users/${username}/unlock`, headers: bearer(token) });

  it('clears the counter of a locked account, whichever spelling locked it, and is audited', async () => {
    await register(gk.app, 'lockee', { email: 'lockee@example.com' });
    for (let i = 0; i < 3; i += 1) await attempt('LOCKEE', WRONG);
    for (let i = 0; i < 2; i += 1) await attempt('lockee@example.com', WRONG);
    expectError(await attempt('lockee@example.com', STRONG_PASSWORD), 429, 'TOO_MANY_ATTEMPTS');

    const res = await unlock('Lockee');
    expect(res.statusCode, res.body).toBe(200);
    expect(typeof json(res).message).toBe('string');
    // No waiting: the owner gets in at once, by email or username.
    expect((await attempt('lockee@example.com', STRONG_PASSWORD)).statusCode).toBe(200);
    expect((await attempt('lockee', STRONG_PASSWORD)).statusCode).toBe(200);

    const audit = await gk.app.inject({
      method: 'GET',
      url: '/auth/audit?user=lockee&event=user.unlock',
      headers: bearer(admin.access_token),
    });
    const events = json(audit) as unknown as Array<{ username: string; detail: { by: string } }>;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ username: 'lockee', detail: { by: 'root_admin' } });
  });

  it('is 404 USER_NOT_FOUND for nobody and 403 for a non-admin', async () => {
    expectError(await unlock('nobody_here'), 404, 'USER_NOT_FOUND');
    await register(gk.app, 'plain_user');
    const tokens = await login(gk.app, 'plain_user');
    expectError(await unlock('plain_user', tokens.access_token), 403, 'FORBIDDEN');
  });
});
