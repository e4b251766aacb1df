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

const ADMIN_ROUTES: Array<[string, string, object?]> = [
  ['GET', '/auth/users'],
  ['POST', '/auth/users', { username: 'someone', password: STRONG_PASSWORD }],
  ['GET', '/auth/users/someone'],
  ['PUT', '/auth/users/someone', { role: 'admin' }],
  ['DELETE', '/auth/users/someone'],
  ['POST', '/auth/users/someone/revoke-tokens'],
  ['POST', '/auth/users/someone/yapcoins', { delta: 5 }],
  ['GET', '/auth/stats'],
  ['POST', '/auth/cleanup'],
];

describe.each(BACKENDS)('admin routes (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let admin: Tokens;
  let regular: Tokens;
  let n = 0;
  const fresh = (prefix = 'u') => `${prefix}_${++n}`;
  const as = (tokens: Tokens) => bearer(tokens.access_token);

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    admin = await adminTokens(gk, 'the_admin');
    await register(gk.app, 'plain_user');
    regular = await login(gk.app, 'plain_user');
  });
  afterAll(async () => {
    await gk?.close();
  });

  it.each(ADMIN_ROUTES)(
    '%s %s answers 401 without a token and 403 for a regular user',
    async (method, url, payload) => {
      const inject = (headers: Record<string, string>) =>
        gk.app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) });
      expectError(await inject({}), 401, 'NOT_AUTHENTICATED');
      expectError(await inject(as(regular)), 403, 'FORBIDDEN');
    },
  );

  it('GET /auth/users paginates in creation order with X-Total-Count and filters', async () => {
    const names = Array.from({ length: 5 }, () => fresh('listed'));
    for (const name of names) await register(gk.app, name, { email: `${name}@list.example` });
    await gk.service.updateUser(names[4]!, { isActive: false });
    const all = await gk.app.inject({ method: 'GET', url: '/auth/users?limit=1000', headers: as(admin) });
    expect(all.statusCode).toBe(200);
    const total = Number(all.headers['x-total-count']);
    const everyone = json(all) as unknown as Array<{ username: string; created_at: string }>;
    expect(everyone).toHaveLength(total);
    const times = everyone.map((u) => u.created_at);
    expect([...times].sort()).toEqual(times);

    const page = await gk.app.inject({ method: 'GET', url: '/auth/users?skip=1&limit=2', headers: as(admin) });
    expect((json(page) as unknown as unknown[]).length).toBe(2);
    expect(page.headers['x-total-count']).toBe(String(total));

    const search = await gk.app.inject({ method: 'GET', url: '/auth/users?q=LIST.EXAMPLE', headers: as(admin) });
    expect(search.headers['x-total-count']).toBe('5');
    const inactive = await gk.app.inject({
      method: 'GET',
      url: '/auth/users?q=list.example&is_active=false',
      headers: as(admin),
    });
    expect((json(inactive) as unknown as Array<{ username: string }>).map((u) => u.username)).toEqual([names[4]]);
    const admins = await gk.app.inject({ method: 'GET', url: '/auth/users?role=admin', headers: as(admin) });
    expect((json(admins) as unknown as Array<{ username: string }>).map((u) => u.username)).toEqual(['the_admin']);
  });

  it.each(['limit=1001', 'limit=0', 'skip=-1', 'role=root', 'limit=ten', 'is_active=maybe'])(
    'GET /auth/users?%s answers 422',
    async (query) => {
      expectError(
        await gk.app.inject({ method: 'GET', url: `/auth/users?${query}`, headers: as(admin) }),
        422,
        'VALIDATION_ERROR',
      );
    },
  );

  it('POST /auth/users creates a user with a role; GET /auth/users/{username} reads it case-insensitively', async () => {
    const name = fresh('Guesty');
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/users',
      headers: as(admin),
      payload: { username: name, password: STRONG_PASSWORD, role: 'guest', is_active: true },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ username: name, role: 'guest' });
    const got = await gk.app.inject({ method: 'GET', url: `/auth/users/${name.toLowerCase()}`, headers: as(admin) });
    expect(json(got).username).toBe(name);
    expectError(
      await gk.app.inject({
        method: 'POST',
        url: '/auth/users',
        headers: as(admin),
        payload: { username: name, password: STRONG_PASSWORD },
      }),
      409,
      'USERNAME_TAKEN',
    );
    expectError(
      await gk.app.inject({ method: 'GET', url: '/auth/users/nobody_at_all', headers: as(admin) }),
      404,
      'USER_NOT_FOUND',
    );
  });

  it("PUT /auth/users/{username}: demotion and deactivation revoke the user's tokens at once", async () => {
    const name = fresh('promo');
    await register(gk.app, name);
    const put = (payload: object) =>
      gk.app.inject({ method: 'PUT', url: `/auth/users/${name}`, headers: as(admin), payload });

    expect(json(await put({ role: 'admin' })).role).toBe('admin');
    const asAdmin = await login(gk.app, name);
    expect((await gk.app.inject({ method: 'GET', url: '/auth/stats', headers: as(asAdmin) })).statusCode).toBe(200);
    expect(json(await put({ role: 'regular' })).role).toBe('regular');
    expectError(await gk.app.inject({ method: 'GET', url: '/auth/stats', headers: as(asAdmin) }), 401, 'TOKEN_REVOKED');

    const t = await login(gk.app, name);
    expect(json(await put({ is_active: false })).is_active).toBe(false);
    expectError(await gk.app.inject({ method: 'GET', url: '/auth/me', headers: as(t) }), 401, 'TOKEN_REVOKED');
    expectError(
      await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: name, password: STRONG_PASSWORD },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    expectError(await put({ role: 'superuser' }), 422, 'VALIDATION_ERROR');
    expectError(
      await gk.app.inject({
        method: 'PUT',
        url: '/auth/users/nobody_x',
        headers: as(admin),
        payload: { role: 'guest' },
      }),
      404,
      'USER_NOT_FOUND',
    );
  });

  it('the last active admin cannot be demoted, deactivated or deleted (409 LAST_ADMIN)', async () => {
    for (const payload of [{ role: 'regular' }, { is_active: false }]) {
      expectError(
        await gk.app.inject({ method: 'PUT', url: '/auth/users/the_admin', headers: as(admin), payload }),
        409,
        'LAST_ADMIN',
      );
    }
    expectError(
      await gk.app.inject({ method: 'DELETE', url: '/auth/users/the_admin', headers: as(admin) }),
      409,
      'LAST_ADMIN',
    );
    expect((await gk.app.inject({ method: 'GET', url: '/auth/me', headers: as(admin) })).statusCode).toBe(200);
  });

  it('DELETE /auth/users/{username} removes the user; 404 afterwards', async () => {
    const name = fresh('del');
    await register(gk.app, name);
    const res = await gk.app.inject({ method: 'DELETE', url: `/auth/users/${name}`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    expect(typeof json(res).message).toBe('string');
    expectError(
      await gk.app.inject({ method: 'DELETE', url: `/auth/users/${name}`, headers: as(admin) }),
      404,
      'USER_NOT_FOUND',
    );
  });

  it('POST /auth/users/{username}/revoke-tokens ends every session of the user', async () => {
    const name = fresh('rev');
    await register(gk.app, name);
    const a = await login(gk.app, name);
    const b = await login(gk.app, name);
    const res = await gk.app.inject({ method: 'POST', url: `/auth/users/${name}/revoke-tokens`, headers: as(admin) });
    expect(res.statusCode).toBe(200);
    for (const t of [a, b]) {
      expectError(await gk.app.inject({ method: 'GET', url: '/auth/me', headers: as(t) }), 401, 'TOKEN_REVOKED');
      expectError(
        await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: t.refresh_token } }),
        401,
        'INVALID_REFRESH_TOKEN',
      );
    }
    expectError(
      await gk.app.inject({ method: 'POST', url: '/auth/users/nobody_y/revoke-tokens', headers: as(admin) }),
      404,
      'USER_NOT_FOUND',
    );
  });

  it('POST /auth/users/{username}/yapcoins changes the balance and refuses to go below zero', async () => {
    const name = fresh('coins');
    await register(gk.app, name);
    const add = (delta: unknown) =>
      gk.app.inject({ method: 'POST', url: `/auth/users/${name}/yapcoins`, headers: as(admin), payload: { delta } });
    expect(json(await add(10))).toEqual({ username: name, yapcoin_balance: 10 });
    expect(json(await add(-3))).toEqual({ username: name, yapcoin_balance: 7 });
    expectError(await add(-8), 409, 'INSUFFICIENT_BALANCE');
    expectError(await add(1.5), 422, 'VALIDATION_ERROR');
    expectError(await add(1e12), 422, 'VALIDATION_ERROR');
    expect(json(await add(0)).yapcoin_balance).toBe(7);
  });

  it('concurrent yapcoin changes lose no update', async () => {
    const name = fresh('race');
    await register(gk.app, name);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        gk.app.inject({
          method: 'POST',
          url: `/auth/users/${name}/yapcoins`,
          headers: as(admin),
          payload: { delta: 2 },
        }),
      ),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    const user = await gk.app.inject({ method: 'GET', url: `/auth/users/${name}`, headers: as(admin) });
    expect(json(user).yapcoin_balance).toBe(60);
  });

  it('GET /auth/stats counts users by role and active sessions; POST /auth/cleanup removes ended sessions', async () => {
    const stats = json(await gk.app.inject({ method: 'GET', url: '/auth/stats', headers: as(admin) }));
    const byRole = stats.users_by_role as Record<string, number>;
    expect(stats.users_total).toBe(byRole.admin! + byRole.regular! + byRole.guest!);
    expect(stats.users_active as number).toBeLessThanOrEqual(stats.users_total as number);
    expect(stats.active_sessions as number).toBeGreaterThanOrEqual(2);

    const name = fresh('clean');
    await register(gk.app, name);
    const t = await login(gk.app, name);
    await gk.app.inject({ method: 'POST', url: '/auth/logout', headers: as(t) });
    const cleanup = await gk.app.inject({ method: 'POST', url: '/auth/cleanup', headers: as(admin) });
    expect(cleanup.statusCode).toBe(200);
    expect(json(cleanup).removed as number).toBeGreaterThanOrEqual(1);
  });
});
