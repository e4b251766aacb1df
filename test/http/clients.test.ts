/**
 * The admin API of OAuth clients (issue #11): GET/POST /auth/clients, GET/DELETE
 * /auth/clients/{client_id}, POST /auth/clients/{client_id}/rotate-secret. A confidential
 * client's secret appears in the creation (or rotation) answer and nowhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
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

interface WireClient {
  client_id: string;
  name: string;
  public: boolean;
  redirect_uris: string[];
  grant_types: string[];
  first_party: boolean;
  created_at: string;
  secret_rotated_at: string | null;
  created_by: string | null;
  client_secret?: string | null;
}

describe.each(BACKENDS)('OAuth clients admin API (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let admin: Tokens;
  let regular: Tokens;
  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    admin = await adminTokens(gk);
    await register(gk.app, 'plain_clientless');
    regular = await login(gk.app, 'plain_clientless');
  });
  afterAll(async () => {
    await gk?.close();
  });

  const create = (payload: Record<string, unknown>, token = admin.access_token) =>
    gk.app.inject({ method: 'POST', url: '/auth/clients', headers: bearer(token), payload });
  const get = (clientId: string) =>
    gk.app.inject({ method: 'GET', url: `/auth/clients/${clientId}`, headers: bearer(admin.access_token) });
  const list = () => gk.app.inject({ method: 'GET', url: '/auth/clients', headers: bearer(admin.access_token) });
  const introspect = (clientId: string, secret: string) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `token=${encodeURIComponent(admin.access_token)}`,
    });

  it('is 401 without a token and 403 for a non-admin, on every route', async () => {
    const routes = [
      { method: 'GET', url: '/auth/clients' },
      { method: 'POST', url: '/auth/clients' },
      { method: 'GET', url: '/auth/clients/gk_whatever' },
      { method: 'DELETE', url: '/auth/clients/gk_whatever' },
      { method: 'POST', url: '/auth/clients/gk_whatever/rotate-secret' },
    ] as const;
    for (const route of routes) {
      const anonymous = await gk.app.inject({ ...route, payload: route.method === 'POST' ? { name: 'x' } : undefined });
      expectError(anonymous, 401, 'NOT_AUTHENTICATED');
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      const plain = await gk.app.inject({
        ...route,
        headers: bearer(regular.access_token),
        payload: route.method === 'POST' ? { name: 'x' } : undefined,
      });
      expectError(plain, 403, 'FORBIDDEN');
    }
    expect(json(await list())).toEqual([]);
  });

  it('POST creates a confidential client: 201 with its secret shown once, never again', async () => {
    const res = await create({
      name: 'Orders service',
      redirect_uris: ['https://orders.example/callback', 'http://127.0.0.1:9000/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      first_party: true,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = json(res) as unknown as WireClient;
    expect(created).toMatchObject({
      name: 'Orders service',
      public: false,
      redirect_uris: ['https://orders.example/callback', 'http://127.0.0.1:9000/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      first_party: true,
      secret_rotated_at: null,
      created_by: 'root_admin',
    });
    expect(created.client_id).toMatch(/^gk_[A-Za-z0-9_-]{22}$/);
    const secret = created.client_secret!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes

    const one = await get(created.client_id);
    expect(one.statusCode).toBe(200);
    const { client_secret: _shownOnce, ...withoutSecret } = created;
    expect(json(one)).toEqual(withoutSecret);
    const all = await list();
    expect(all.statusCode).toBe(200);
    expect((json(all) as unknown as WireClient[]).map((c) => c.client_id)).toContain(created.client_id);
    for (const body of [one.body, all.body]) {
      expect(body).not.toContain(secret);
      expect(body).not.toContain('client_secret');
      expect(body).not.toContain('secret_hash');
    }
    expect((await introspect(created.client_id, secret)).statusCode).toBe(200);
  });

  it('POST creates a public client without a secret', async () => {
    const res = await create({ name: 'Browser app', public: true, redirect_uris: ['https://app.example/cb'] });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ public: true, client_secret: null, first_party: false, grant_types: [] });
  });

  it('POST refuses what no client may have (422 on the field)', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: '   ' }, 'name'],
      [{ name: 'x', redirect_uris: ['not a uri'] }, 'redirect_uris'],
      [{ name: 'x', redirect_uris: ['https://app.example/cb#frag'] }, 'redirect_uris'],
      [{ name: 'x', redirect_uris: ['http://app.example/cb'] }, 'redirect_uris'],
      [{ name: 'x', redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris'],
      [{ name: 'x', grant_types: ['password'] }, 'grant_types'],
      [{ name: 'x', public: true, grant_types: ['client_credentials'] }, 'grant_types'],
      [{ name: 'x', client_secret: 'mine' }, 'client_secret'],
    ];
    for (const [payload, field] of cases) {
      const res = await create(payload);
      expectError(res, 422, 'VALIDATION_ERROR');
      const fields = (json(res).errors as Array<{ field: string }>).map((e) => e.field.split('.')[0]);
      expect(fields, JSON.stringify(payload)).toContain(field);
    }
  });

  it('GET and DELETE of an unknown client are 404 CLIENT_NOT_FOUND', async () => {
    expectError(await get('gk_AAAAAAAAAAAAAAAAAAAAAA'), 404, 'CLIENT_NOT_FOUND');
    const del = await gk.app.inject({
      method: 'DELETE',
      url: '/auth/clients/gk_AAAAAAAAAAAAAAAAAAAAAA',
      headers: bearer(admin.access_token),
    });
    expectError(del, 404, 'CLIENT_NOT_FOUND');
    const rotate = await gk.app.inject({
      method: 'POST',
      url: '/auth/clients/gk_AAAAAAAAAAAAAAAAAAAAAA/rotate-secret',
      headers: bearer(admin.access_token),
    });
    expectError(rotate, 404, 'CLIENT_NOT_FOUND');
  });

  it('DELETE removes the client: its secret stops working at once', async () => {
    const created = json(await create({ name: 'Doomed' })) as unknown as WireClient;
    expect((await introspect(created.client_id, created.client_secret!)).statusCode).toBe(200);
    const del = await gk.app.inject({
      method: 'DELETE',
      url: `/auth/clients/${created.client_id}`,
      headers: bearer(admin.access_token),
    });
    expect(del.statusCode, del.body).toBe(200);
    expect(typeof json(del).message).toBe('string');
    expectError(await get(created.client_id), 404, 'CLIENT_NOT_FOUND');
    expectError(await introspect(created.client_id, created.client_secret!), 401, 'INVALID_CLIENT');
  });

  it('rotate-secret gives a new secret that replaces the old one; a public client has none to rotate', async () => {
    const created = json(await create({ name: 'Rotating' })) as unknown as WireClient;
    const res = await gk.app.inject({
      method: 'POST',
      url: `/auth/clients/${created.client_id}/rotate-secret`,
      headers: bearer(admin.access_token),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const rotated = json(res) as unknown as WireClient;
    expect(rotated.client_id).toBe(created.client_id);
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect(rotated.secret_rotated_at).not.toBeNull();
    expect(json(await get(created.client_id))).toMatchObject({ secret_rotated_at: rotated.secret_rotated_at });

    expectError(await introspect(created.client_id, created.client_secret!), 401, 'INVALID_CLIENT');
    expect((await introspect(created.client_id, rotated.client_secret!)).statusCode).toBe(200);

    const publicClient = json(await create({ name: 'Public', public: true })) as unknown as WireClient;
    const refused = await gk.app.inject({
      method: 'POST',
      url: `/auth/clients/${publicClient.client_id}/rotate-secret`,
      headers: bearer(admin.access_token),
    });
    expectError(refused, 400, 'BAD_REQUEST');
  });

  it('creation, rotation and deletion are audited with who did it, never with a secret', async () => {
    const created = json(await create({ name: 'Audited' })) as unknown as WireClient;
    const rotated = json(
      await gk.app.inject({
        method: 'POST',
        url: `/auth/clients/${created.client_id}/rotate-secret`,
        headers: bearer(admin.access_token),
      }),
    ) as unknown as WireClient;
    await gk.app.inject({
      method: 'DELETE',
      url: `/auth/clients/${created.client_id}`,
      headers: bearer(admin.access_token),
    });
    for (const event of ['client.create', 'client.rotate_secret', 'client.delete']) {
      const res = await gk.app.inject({
        method: 'GET',
        url: `/auth/audit?event=${event}`,
        headers: bearer(admin.access_token),
      });
      expect(res.statusCode, res.body).toBe(200);
      const rows = json(res) as unknown as Array<{ detail: Record<string, unknown> }>;
      const mine = rows.filter((r) => r.detail.client_id === created.client_id);
      expect(mine, event).toHaveLength(1);
      expect(mine[0]!.detail).toMatchObject({ by: 'root_admin', name: 'Audited' });
      expect(res.body).not.toContain(created.client_secret!);
      expect(res.body).not.toContain(rotated.client_secret!);
    }
  });
});
