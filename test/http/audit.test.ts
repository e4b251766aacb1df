/**
 * Issue 5, point 5: the audit trail and GET /auth/audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/auth/key-ring.js';
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

interface AuditEvent {
  id: number;
  at: string;
  event: string;
  username: string | null;
  user_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

const NEW_PASSWORD = 'An0ther-Secret!';

describe.each(BACKENDS)('audit trail (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let admin: Tokens;

  beforeAll(async () => {
    // No grace window: the second presentation of a refresh token below is reuse at once.
    gk = await startGatekeeper(backend, { GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '0' });
    admin = await adminTokens(gk);
  });
  afterAll(async () => {
    await gk?.close();
  });

  const audit = async (query = '', token = admin.access_token): Promise<AuditEvent[]> => {
    const res = await gk.app.inject({ method: 'GET', url: `/auth/audit${query}`, headers: bearer(token) });
    expect(res.statusCode, res.body).toBe(200);
    return json(res) as unknown as AuditEvent[];
  };
  const post = (url: string, payload: unknown, token?: string) =>
    gk.app.inject({ method: 'POST', url, payload: payload as object, headers: token ? bearer(token) : {} });

  it('records every security event of an account, with address and reasons, and never a secret', async () => {
    const user = await register(gk.app, 'audited', { email: 'audited@example.com' });
    const secrets: string[] = [STRONG_PASSWORD, NEW_PASSWORD, 'Wr0ng-Password!'];
    const ip = '192.0.2.44';
    const login1 = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'audited', password: STRONG_PASSWORD },
      remoteAddress: ip,
    });
    const tokens = json(login1) as unknown as Tokens;
    secrets.push(tokens.access_token, tokens.refresh_token);
    await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'audited', password: 'Wr0ng-Password!' },
      remoteAddress: ip,
    });
    await post('/auth/login', { username: 'nobody_here', password: 'Wr0ng-Password!' });
    // Refresh twice with the same token: the second is reuse.
    const rotated = json(await post('/auth/refresh', { refresh_token: tokens.refresh_token })) as unknown as Tokens;
    secrets.push(rotated.access_token, rotated.refresh_token);
    await post('/auth/refresh', { refresh_token: tokens.refresh_token });
    const fresh = await login(gk.app, 'audited');
    secrets.push(fresh.access_token, fresh.refresh_token);
    const changed = await post(
      '/auth/change-password',
      { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
      fresh.access_token,
    );
    const afterChange = json(changed) as unknown as Tokens;
    secrets.push(afterChange.access_token, afterChange.refresh_token);
    await post('/auth/logout', { refresh_token: afterChange.refresh_token }, afterChange.access_token);
    const hash = (await gk.store.getUserById(user.id as string))!.passwordHash;
    secrets.push(hash);
    // Admin actions: promote, deactivate (inactive login), revoke, delete.
    const put = (body: object) =>
      gk.app.inject({ method: 'PUT', url: '/auth/users/audited', payload: body, headers: bearer(admin.access_token) });
    expect((await put({ role: 'guest' })).statusCode).toBe(200);
    expect((await put({ is_active: false })).statusCode).toBe(200);
    await post('/auth/login', { username: 'audited', password: NEW_PASSWORD });
    await post('/auth/users/audited/revoke-tokens', {}, admin.access_token);
    const deleted = await gk.app.inject({
      method: 'DELETE',
      url: '/auth/users/audited',
      headers: bearer(admin.access_token),
    });
    expect(deleted.statusCode).toBe(200);

    const events = await audit('?user=audited&limit=1000');
    const summary = events.map((e) => [e.event, e.detail.reason ?? null]).reverse();
    // A rotating refresh is routine and not recorded; a reused refresh token is.
    expect(summary).toEqual([
      ['register', null],
      ['email.verification_request', 'registration'],
      ['login.success', null],
      ['login.failure', 'wrong-password'],
      ['refresh.reuse', null],
      ['login.success', null],
      ['password.change', null],
      ['logout', null],
      ['user.update', null],
      ['user.update', null],
      ['login.failure', 'inactive'],
      ['tokens.revoke', null],
      ['user.delete', null],
    ]);
    const byEvent = (name: string) => events.filter((e) => e.event === name);
    expect(byEvent('login.failure').find((e) => e.detail.reason === 'wrong-password')).toMatchObject({
      username: 'audited',
      user_id: user.id,
      ip,
    });
    const updates = byEvent('user.update').map((e) => e.detail);
    expect(updates).toEqual([
      { by: 'root_admin', changes: { is_active: { before: true, after: false } } },
      { by: 'root_admin', changes: { role: { before: 'regular', after: 'guest' } } },
    ]);
    expect(byEvent('user.delete')[0]?.detail).toMatchObject({ by: 'root_admin' });
    expect(byEvent('tokens.revoke')[0]?.detail).toMatchObject({ by: 'root_admin' });
    expect(byEvent('password.change')[0]?.detail).toMatchObject({ sessions_revoked: expect.any(Number) });

    const unknown = await audit('?user=nobody_here');
    expect(unknown.map((e) => [e.event, e.detail.reason, e.user_id])).toEqual([
      ['login.failure', 'unknown-user', null],
    ]);

    const everything = JSON.stringify(await audit('?limit=1000'));
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('lists newest first and filters by event, since and limit', async () => {
    await register(gk.app, 'filter_a');
    await register(gk.app, 'filter_b');
    const all = await audit('?event=register');
    expect(all.map((e) => e.username).slice(0, 2)).toEqual(['filter_b', 'filter_a']);
    for (let i = 1; i < all.length; i += 1) expect(all[i - 1]!.id).toBeGreaterThan(all[i]!.id);
    expect(await audit('?event=register&limit=1')).toHaveLength(1);
    const newest = all[0]!;
    const since = await audit(`?since=${encodeURIComponent(newest.at)}&event=register`);
    expect(since.map((e) => e.username)).toContain('filter_b');
    expect(await audit(`?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).toEqual([]);
    expect((await audit('?user=FILTER_A')).map((e) => e.event)).toEqual(['register']);
  });

  it('records key rotation', async () => {
    await rotateSigningKey(gk.store, 'EdDSA', { by: 'ops' });
    const [event] = await audit('?event=key.rotate');
    expect(event).toMatchObject({ event: 'key.rotate', detail: { algorithm: 'EdDSA', by: 'ops' } });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['since=yesterday', 'since'],
    ['event=login', 'event'],
    ['user=', 'user'],
    ['token=abc', 'token'],
  ])('answers 422 for %s', async (query, field) => {
    const res = await gk.app.inject({
      method: 'GET',
      url: `/auth/audit?${query}`,
      headers: bearer(admin.access_token),
    });
    expectError(res, 422, 'VALIDATION_ERROR');
    expect(JSON.stringify(json(res).errors)).toContain(field);
  });

  it('is for admins only', async () => {
    expectError(await gk.app.inject({ method: 'GET', url: '/auth/audit' }), 401, 'NOT_AUTHENTICATED');
    await register(gk.app, 'not_admin');
    const user = await login(gk.app, 'not_admin');
    expectError(
      await gk.app.inject({ method: 'GET', url: '/auth/audit', headers: bearer(user.access_token) }),
      403,
      'FORBIDDEN',
    );
  });

  it('is in the OpenAPI document with its query and response schema', async () => {
    const doc = json(await gk.app.inject({ method: 'GET', url: '/openapi.json' })) as {
      paths: Record<string, { get?: { parameters: Array<{ name: string }>; responses: Record<string, unknown> } }>;
    };
    const route = doc.paths['/auth/audit']?.get;
    expect(route).toBeDefined();
    expect(route!.parameters.map((p) => p.name).sort()).toEqual(['event', 'limit', 'since', 'user']);
    expect(JSON.stringify(route!.responses['200'])).toMatch(/AuditEvent|user_id/);
  });
});

describe('audit retention', () => {
  it('POST /auth/cleanup purges events older than GATEKEEPER_AUDIT_RETENTION_DAYS and counts them in removed', async () => {
    const clock = testClock();
    const gk = await startGatekeeper('memory', { GATEKEEPER_AUDIT_RETENTION_DAYS: '2' }, { now: clock.now });
    try {
      await register(gk.app, 'old_news');
      await login(gk.app, 'old_news');
      clock.advance(3 * 86_400);
      const admin = await adminTokens(gk);
      const before = (await gk.store.listAuditEvents({ limit: 100 })).length;
      const res = await gk.app.inject({ method: 'POST', url: '/auth/cleanup', headers: bearer(admin.access_token) });
      expect(res.statusCode).toBe(200);
      const after = await gk.store.listAuditEvents({ limit: 100 });
      expect(after.map((e) => e.username)).not.toContain('old_news');
      expect(json(res).removed as number).toBeGreaterThanOrEqual(before - after.length);
      expect(after.length).toBeLessThan(before);
    } finally {
      await gk.close();
    }
  });
});
