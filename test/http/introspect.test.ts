/**
 * POST /auth/introspect (RFC 7662, issue #11): a registered confidential client asks whether
 * one of Gatekeeper's access or refresh tokens is active now. Revoked, expired, foreign and
 * malformed tokens are {active: false}; failed client authentication is 401 invalid_client
 * and, repeated from one address, 429.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashClientSecret } from '../../src/security/client-secrets.js';
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
import { testClock } from '../support/clock.js';

const ISSUER = 'https://gatekeeper.test';
const AUDIENCE = 'orders';
/** Low, so the throttle case needs few requests; every other case uses its own address. */
const IP_MAX_FAILURES = 3;
const FORM = 'application/x-www-form-urlencoded';

/** RFC 6749 §2.3.1, as a conforming client sends it. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
function basic(clientId: string, secret: string, encode = true): string {
  const join = encode ? `${formEncode(clientId)}:${formEncode(secret)}` : `${clientId}:${secret}`;
  return `Basic ${Buffer.from(join, 'utf8').toString('base64')}`;
}

let addressCounter = 0;
/** A client address nobody else in this file uses, so the per-address throttle of one case stays out of the others. */
function freshAddress(): string {
  addressCounter += 1;
  return `203.0.113.${addressCounter}`;
}

describe.each(BACKENDS)('POST /auth/introspect (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  let admin: Tokens;
  let client: { id: string; secret: string };

  beforeAll(async () => {
    gk = await startGatekeeper(
      backend,
      {
        GATEKEEPER_ISSUER: ISSUER,
        GATEKEEPER_AUDIENCE: AUDIENCE,
        GATEKEEPER_LOGIN_IP_MAX_FAILURES: String(IP_MAX_FAILURES),
      },
      { now: clock.now },
    );
    admin = await adminTokens(gk);
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/clients',
      headers: bearer(admin.access_token),
      payload: { name: 'Orders' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = json(res);
    client = { id: body.client_id as string, secret: body.client_secret as string };
  });
  afterAll(async () => {
    await gk?.close();
  });

  /** A form POST with HTTP Basic as the verifier sends it. */
  const introspect = (token: string, options: { authorization?: string; ip?: string } = {}) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: { authorization: options.authorization ?? basic(client.id, client.secret), 'content-type': FORM },
      payload: new URLSearchParams({ token }).toString(),
      remoteAddress: options.ip ?? freshAddress(),
    });
  const activeOf = async (token: string) => {
    const res = await introspect(token);
    expect(res.statusCode, res.body).toBe(200);
    return json(res);
  };
  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  // A fresh admin login each time: some cases move the clock past the first token's lifetime.
  const adminRequest = async (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: object) => {
    const { access_token } = await login(gk.app, 'root_admin');
    return gk.app.inject({ method, url, headers: bearer(access_token), ...(payload ? { payload } : {}) });
  };

  it('an active access token: its owner, session and times, never cached', async () => {
    const user = await register(gk.app, 'intro_alice');
    const tokens = await login(gk.app, 'intro_alice');
    const res = await introspect(tokens.access_token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const claims = claimsOf(tokens.access_token);
    expect(json(res)).toEqual({
      active: true,
      sub: user.id,
      username: 'intro_alice',
      role: 'regular',
      sid: claims.sid,
      exp: claims.exp,
      iat: claims.iat,
      iss: ISSUER,
      aud: AUDIENCE,
      token_type: 'access_token',
    });
  });

  it('after logout the access token and its refresh token are inactive', async () => {
    await register(gk.app, 'intro_leaver');
    const tokens = await login(gk.app, 'intro_leaver');
    expect((await activeOf(tokens.access_token)).active).toBe(true);
    const out = await gk.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(tokens.access_token) });
    expect(out.statusCode, out.body).toBe(200);
    expect(await activeOf(tokens.access_token)).toEqual({ active: false });
    expect(await activeOf(tokens.refresh_token)).toEqual({ active: false });
  });

  it("reports the user's role as it is now: a promotion shows at once, a demotion ends the session", async () => {
    await register(gk.app, 'intro_climber');
    const tokens = await login(gk.app, 'intro_climber');
    expect(claimsOf(tokens.access_token).role).toBe('regular');
    expect((await adminRequest('PUT', '/auth/users/intro_climber', { role: 'admin' })).statusCode).toBe(200);
    expect(await activeOf(tokens.access_token)).toMatchObject({ active: true, role: 'admin' });

    const again = await login(gk.app, 'intro_climber');
    expect((await adminRequest('PUT', '/auth/users/intro_climber', { role: 'guest' })).statusCode).toBe(200);
    // The service ends a demoted user's sessions, so no token can keep the higher role.
    expect(await activeOf(again.access_token)).toEqual({ active: false });
    expect(await activeOf(again.refresh_token)).toEqual({ active: false });
  });

  it('a deleted or deactivated user’s tokens are inactive', async () => {
    await register(gk.app, 'intro_gone');
    const gone = await login(gk.app, 'intro_gone');
    expect((await adminRequest('DELETE', '/auth/users/intro_gone')).statusCode).toBe(200);
    expect(await activeOf(gone.access_token)).toEqual({ active: false });
    expect(await activeOf(gone.refresh_token)).toEqual({ active: false });

    await register(gk.app, 'intro_paused');
    const paused = await login(gk.app, 'intro_paused');
    expect((await adminRequest('PUT', '/auth/users/intro_paused', { is_active: false })).statusCode).toBe(200);
    expect(await activeOf(paused.access_token)).toEqual({ active: false });
  });

  it('a refresh token is active until it is rotated; the new one is active then', async () => {
    const user = await register(gk.app, 'intro_refresher');
    const tokens = await login(gk.app, 'intro_refresher');
    const sid = claimsOf(tokens.access_token).sid;
    const first = await activeOf(tokens.refresh_token);
    expect(first).toMatchObject({
      active: true,
      sub: user.id,
      username: 'intro_refresher',
      role: 'regular',
      sid,
      iss: ISSUER,
      token_type: 'refresh_token',
    });
    expect(first.exp as number).toBeGreaterThan(first.iat as number);
    expect(first).not.toHaveProperty('aud');

    clock.advance(60);
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(res.statusCode, res.body).toBe(200);
    const rotated = json(res) as unknown as Tokens;
    expect(await activeOf(tokens.refresh_token)).toEqual({ active: false });
    const second = await activeOf(rotated.refresh_token);
    expect(second).toMatchObject({ active: true, sid, token_type: 'refresh_token' });
    expect(second.iat as number).toBe((first.iat as number) + 60);
  });

  it('garbage, foreign and expired tokens are inactive', async () => {
    await register(gk.app, 'intro_expiring');
    const tokens = await login(gk.app, 'intro_expiring');
    const claims = claimsOf(tokens.access_token);
    const foreign = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('another-services-secret-that-is-long-enough-0123'));
    const [header, , signature] = tokens.access_token.split('.') as [string, string, string];
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${signature}`;
    const lookalikeRefresh = 'A'.repeat(43);
    for (const token of ['garbage', foreign, tampered, lookalikeRefresh, 'x'.repeat(9000)]) {
      expect(await activeOf(token), token.slice(0, 40)).toEqual({ active: false });
    }
    expect((await activeOf(tokens.access_token)).active).toBe(true);
    clock.advance(31 * 60); // past the 30-minute access-token lifetime
    expect(await activeOf(tokens.access_token)).toEqual({ active: false });
    expect((await activeOf(tokens.refresh_token)).active).toBe(true);
  });

  it('accepts JSON as well as the form, and client_secret_post instead of Basic', async () => {
    const tokens = await login(gk.app, 'root_admin');
    const asJson = await gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: { authorization: basic(client.id, client.secret) },
      payload: { token: tokens.access_token, token_type_hint: 'access_token' },
      remoteAddress: freshAddress(),
    });
    expect(asJson.statusCode, asJson.body).toBe(200);
    expect(json(asJson)).toMatchObject({ active: true, username: 'root_admin' });

    const posted = await gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: { 'content-type': FORM },
      payload: new URLSearchParams({
        token: tokens.access_token,
        client_id: client.id,
        client_secret: client.secret,
      }).toString(),
      remoteAddress: freshAddress(),
    });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(json(posted)).toMatchObject({ active: true, username: 'root_admin' });

    const both = await gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: { authorization: basic(client.id, client.secret), 'content-type': FORM },
      payload: new URLSearchParams({ token: tokens.access_token, client_id: client.id }).toString(),
      remoteAddress: freshAddress(),
    });
    expectError(both, 400, 'BAD_REQUEST');
    expect(json(both).error).toBe('invalid_request');
  });

  it('decodes Basic credentials as RFC 6749 §2.3.1 says: form-urlencoded before base64', async () => {
    // Generated ids and secrets are base64url; one made by hand (an import, OIDC later) may hold anything.
    const special = { id: 'gk_special id:ü+%', secret: 'sëcret:with +%&= and / too' };
    await gk.store.createOAuthClient({
      clientId: special.id,
      name: 'Special',
      secretHash: hashClientSecret(special.secret),
      createdAt: clock.now(),
    });
    const tokens = await login(gk.app, 'root_admin');
    const encoded = await introspect(tokens.access_token, { authorization: basic(special.id, special.secret) });
    expect(encoded.statusCode, encoded.body).toBe(200);
    expect(json(encoded).active).toBe(true);
    // Sent raw, `+` reads as a space and `%&` is no escape: not these credentials.
    const raw = await introspect(tokens.access_token, {
      authorization: basic(special.id, special.secret, false),
    });
    expectError(raw, 401, 'INVALID_CLIENT');
  });

  it('bad client credentials are 401 invalid_client with a Basic challenge, whatever is wrong', async () => {
    const tokens = await login(gk.app, 'root_admin');
    const publicClient = json(await adminRequest('POST', '/auth/clients', { name: 'Browser', public: true })) as {
      client_id: string;
    };
    const attempts = [
      basic(client.id, `${client.secret}x`), // wrong secret
      basic('gk_nobody', client.secret), // unknown client
      basic(publicClient.client_id, ''), // a public client cannot introspect
      basic(publicClient.client_id, client.secret),
      'Basic not-base64!', // unreadable
      `Bearer ${tokens.access_token}`, // a user's token is no client authentication
      '',
    ];
    for (const authorization of attempts) {
      const res = await introspect(tokens.access_token, { authorization });
      expectError(res, 401, 'INVALID_CLIENT');
      expect(res.headers['www-authenticate']).toBe('Basic realm="gatekeeper"');
      const body = json(res);
      expect(body.error).toBe('invalid_client');
      expect(typeof body.error_description).toBe('string');
      expect(res.body).not.toContain(client.secret);
      expect(res.body).not.toContain(tokens.access_token);
    }
  });

  it('a missing token is 400 invalid_request, after the client is authenticated', async () => {
    for (const payload of ['', 'token=', 'token_type_hint=access_token']) {
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/introspect',
        headers: { authorization: basic(client.id, client.secret), 'content-type': FORM },
        payload,
        remoteAddress: freshAddress(),
      });
      expectError(res, 400, 'BAD_REQUEST');
      expect(json(res)).toMatchObject({ error: 'invalid_request' });
    }
    const noBody = await gk.app.inject({
      method: 'POST',
      url: '/auth/introspect',
      headers: { authorization: basic(client.id, client.secret) },
      remoteAddress: freshAddress(),
    });
    expectError(noBody, 400, 'BAD_REQUEST');
  });

  it('repeated bad secrets from one address are 429, even for the right secret, until the lock ends', async () => {
    const tokens = await login(gk.app, 'root_admin');
    const ip = freshAddress();
    const wrong = basic(client.id, 'guessed-secret');
    for (let i = 0; i < IP_MAX_FAILURES; i += 1) {
      expectError(await introspect(tokens.access_token, { authorization: wrong, ip }), 401, 'INVALID_CLIENT');
    }
    const locked = await introspect(tokens.access_token, { ip });
    expectError(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(json(locked).error).toBe('invalid_request');
    // Another address is not affected.
    expect((await introspect(tokens.access_token)).statusCode).toBe(200);

    clock.advance(Number(locked.headers['retry-after']));
    const after = await introspect(tokens.access_token, { ip });
    expect(after.statusCode, after.body).toBe(200);

    const audit = await adminRequest('GET', '/auth/audit?event=client.auth_failure&limit=1000');
    expect(audit.statusCode, audit.body).toBe(200);
    const rows = json(audit) as unknown as Array<{ ip: string; detail: { reason: string; client_id: string | null } }>;
    const fromIp = rows.filter((r) => r.ip === ip);
    expect(fromIp.filter((r) => r.detail.reason === 'wrong-secret')).toHaveLength(IP_MAX_FAILURES);
    expect(fromIp.some((r) => r.detail.reason === 'throttled')).toBe(true);
    expect(fromIp.every((r) => r.detail.client_id === client.id || r.detail.client_id === null)).toBe(true);
    expect(audit.body).not.toContain('guessed-secret');
  });

  it('only /introspect (and login) take a form; the other routes still refuse it', async () => {
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { 'content-type': FORM },
      payload: 'refresh_token=abc',
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('is in the OpenAPI document with every status it sends', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = json(res) as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    const operation = doc.paths['/auth/introspect']?.post;
    expect(operation?.operationId).toBe('introspectToken');
    expect(Object.keys(operation?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '415', '429', '503']),
    );
    for (const [path, method, id] of [
      ['/auth/clients', 'get', 'listClients'],
      ['/auth/clients', 'post', 'createClient'],
      ['/auth/clients/{client_id}', 'get', 'getClient'],
      ['/auth/clients/{client_id}', 'delete', 'deleteClient'],
      ['/auth/clients/{client_id}/rotate-secret', 'post', 'rotateClientSecret'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.operationId, `${method} ${path}`).toBe(id);
    }
  });
});
