/**
 * The Fastify plugin in a host app of its own: the contract's routes under the host's
 * prefix, app.authenticate / app.requireRole on the host's routes (401/403 with the
 * contract's bodies, never the host's 500), and the host's OpenAPI document.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatekeeper, gatekeeper, type Gatekeeper } from '../../src/index.js';
import { CHEAP_HASH, STRONG_PASSWORD } from '../support/app.js';

const ENV = {
  GATEKEEPER_SECRET_KEY: 'plugin-test-secret-key-0123456789abcdefgh',
  GATEKEEPER_ADMIN_USERNAME: 'host_admin',
  GATEKEEPER_ADMIN_PASSWORD: STRONG_PASSWORD,
};

describe('app.register(gatekeeper, { prefix })', () => {
  let gk: Gatekeeper;
  let host: FastifyInstance;
  const hostErrors: unknown[] = [];

  beforeAll(async () => {
    gk = await createGatekeeper({ env: ENV, database: { memory: true }, logger: false, hashParams: CHEAP_HASH });
    host = Fastify({ bodyLimit: 10 * 1024 * 1024 });
    // The host's own error handler answers 500 for anything that reaches it.
    host.setErrorHandler((error, _request, reply) => {
      hostErrors.push(error);
      return reply.code(500).send({ host: 'error' });
    });
    await host.register(swagger, {
      openapi: {
        info: { title: 'Host', version: '1.0.0' },
        components: { securitySchemes: { hostBearer: { type: 'http', scheme: 'bearer' } } },
      },
      // Component names from the schemas' $id (UserPublic…) rather than swagger's def-0, def-1…
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    await host.register(gatekeeper, { prefix: '/api/auth', gatekeeper: gk, securityScheme: 'hostBearer' });
    host.get('/hello', { preHandler: host.authenticate }, async (request) => ({ hello: request.user?.username }));
    host.get('/admin-only', { preHandler: host.requireRole('admin') }, async (request) => ({
      admin: request.user?.username,
      hash: 'passwordHash' in (request.user ?? {}),
    }));
    host.post('/echo', async (request) => ({ got: request.body }));
    await host.ready();
  });
  afterAll(async () => {
    await host.close();
    await gk.close();
  });

  const login = async (username: string) => {
    const response = await host.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password: STRONG_PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    return (response.json() as { access_token: string }).access_token;
  };

  it('mounts the contract under the prefix, and only there', async () => {
    const registered = await host.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: 'host_user', password: STRONG_PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    expect(registered.headers['cache-control']).toBe('no-store');
    const token = await login('host_user');
    const me = await host.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toMatchObject({ username: 'host_user', role: 'regular' });
    // The OAuth2 form works at the prefixed login, as at /auth/login.
    const form = await host.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&username=host_user&password=${encodeURIComponent(STRONG_PASSWORD)}`,
    });
    expect(form.statusCode).toBe(200);
    expect((await host.inject({ method: 'POST', url: '/auth/login', payload: {} })).statusCode).toBe(404);
    const unknown = await host.inject({ method: 'GET', url: '/api/auth/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps the contract inside the prefix: 64 KiB bodies, 422 and 415 in the contract shape', async () => {
    const big = await host.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: 'big_body', password: STRONG_PASSWORD, metadata: { blob: 'x'.repeat(70 * 1024) } },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const invalid = await host.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'x' } });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    const text = await host.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers: { 'content-type': 'text/plain' },
      payload: 'refresh_token=abc',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    // The host's own routes keep the host's rules (its larger body limit, its text/plain parser).
    const echo = await host.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'text/plain' },
      payload: 'y'.repeat(100 * 1024),
    });
    expect(echo.statusCode).toBe(200);
    expect(hostErrors).toEqual([]);
  });

  it('app.authenticate: 401 with the contract body and WWW-Authenticate, never the host 500', async () => {
    const missing = await host.inject({ method: 'GET', url: '/hello' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.json()).toMatchObject({ code: 'NOT_AUTHENTICATED', detail: expect.any(String) });
    const garbage = await host.inject({ method: 'GET', url: '/hello', headers: { authorization: 'Bearer nope' } });
    expect(garbage.statusCode).toBe(401);
    expect(garbage.json()).toMatchObject({ code: 'INVALID_TOKEN' });
    const malformed = await host.inject({ method: 'GET', url: '/hello', headers: { authorization: 'Basic abc' } });
    expect(malformed.statusCode).toBe(401);

    const token = await login('host_user');
    const ok = await host.inject({ method: 'GET', url: '/hello', headers: { authorization: `Bearer ${token}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ hello: 'host_user' });

    // Logged out: the same token is refused at once on the host's route too.
    await host.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${token}` } });
    const after = await host.inject({ method: 'GET', url: '/hello', headers: { authorization: `Bearer ${token}` } });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'TOKEN_REVOKED' });
    expect(hostErrors).toEqual([]);
  });

  it('app.requireRole: 403 FORBIDDEN below the role, the user (without its hash) at or above it', async () => {
    const regular = await login('host_user');
    const refused = await host.inject({
      method: 'GET',
      url: '/admin-only',
      headers: { authorization: `Bearer ${regular}` },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await host.inject({ method: 'GET', url: '/admin-only' })).statusCode).toBe(401);

    const admin = await login('host_admin');
    const allowed = await host.inject({
      method: 'GET',
      url: '/admin-only',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(allowed.json()).toEqual({ admin: 'host_admin', hash: false });
    expect(() => host.requireRole('superuser' as 'admin')).toThrow(TypeError);
    expect(hostErrors).toEqual([]);
  });

  it("puts the auth routes, with their component schemas, in the host's OpenAPI document", async () => {
    const document = host.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components?: { schemas?: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/auth/login', '/api/auth/register', '/api/auth/me', '/api/auth/users/{username}']),
    );
    expect(Object.keys(document.components?.schemas ?? {})).toEqual(
      expect.arrayContaining(['UserPublic', 'ErrorBody', 'TokenResponse']),
    );
    expect(document.paths['/api/auth/me']?.get).toMatchObject({ security: [{ hostBearer: [] }] });
    // Every $ref in the document names a schema the document has.
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect(document.components?.schemas).toHaveProperty(name!);
  });
});

describe('the plugin creating its own Gatekeeper', () => {
  it('creates one from the options and closes it with the host (a host document without a bearer scheme)', async () => {
    const host = Fastify();
    await host.register(swagger, { openapi: { info: { title: 'Plain host', version: '1.0.0' } } });
    await host.register(gatekeeper, {
      env: { GATEKEEPER_SECRET_KEY: 'plugin-test-secret-key-0123456789abcdefgh' },
      database: { memory: true },
      logger: false,
      hashParams: CHEAP_HASH,
    });
    const response = await host.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'owned_user', password: STRONG_PASSWORD },
    });
    expect(response.statusCode).toBe(201);
    const document = host.swagger() as unknown as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(document.paths['/auth/me']?.get).toBeDefined();
    expect(document.paths['/auth/me']?.get?.security).toBeUndefined();
    await host.close();
    // Closed with the host: its service no longer serves (the store is closed).
    expect(host.server.listening).toBe(false);
  });
});
