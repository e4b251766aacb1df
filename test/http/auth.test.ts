import { SignJWT, decodeJwt } from 'jose';
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
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';

describe.each(BACKENDS)('auth routes (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let n = 0;
  const fresh = (prefix = 'user') => `${prefix}_${++n}`;

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
  });
  afterAll(async () => {
    await gk?.close();
  });

  describe('POST /auth/register', () => {
    it('creates a regular user and returns UserPublic without the hash', async () => {
      const body = await register(gk.app, 'Alice_R', { email: 'alice@example.com', metadata: { lang: 'en' } });
      expect(body).toMatchObject({
        username: 'Alice_R',
        role: 'regular',
        email: 'alice@example.com',
        profile_picture_url: null,
        yapcoin_balance: 0,
        is_active: true,
        metadata: { lang: 'en' },
        mfa_enabled: false,
      });
      expect(Object.keys(body).sort()).toEqual(
        [
          'created_at',
          'email',
          'email_verified',
          'id',
          'is_active',
          'metadata',
          'mfa_enabled',
          'profile_picture_url',
          'role',
          'updated_at',
          'username',
          'yapcoin_balance',
        ].sort(),
      );
      expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('refuses a username taken in another case with 409 USERNAME_TAKEN', async () => {
      await register(gk.app, 'CaseUser');
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: 'caseuser', password: STRONG_PASSWORD },
      });
      expectError(res, 409, 'USERNAME_TAKEN');
    });

    it('refuses a taken email with 409 EMAIL_TAKEN', async () => {
      await register(gk.app, fresh(), { email: 'dup@example.com' });
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: fresh(), password: STRONG_PASSWORD, email: 'DUP@example.com' },
      });
      expectError(res, 409, 'EMAIL_TAKEN');
    });

    it.each([
      ['a weak password', { password: 'weakpass' }, 'password'],
      ['a short username', { username: 'ab' }, 'username'],
      ['a username with spaces', { username: 'bad name' }, 'username'],
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['a non-http picture URL', { profile_picture_url: 'javascript:alert(1)' }, 'profile_picture_url'],
      ['a NUL byte in the password', { password: 'Abcdefg1!\u0000' }, 'password'],
      ['metadata that is not an object', { metadata: [1, 2] }, 'metadata'],
      ['an unknown field', { is_admin: true }, 'is_admin'],
    ])('answers 422 with field errors for %s', async (_label, override, field) => {
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: fresh(), password: STRONG_PASSWORD, ...override },
      });
      expectError(res, 422, 'VALIDATION_ERROR');
      const errors = json(res).errors as Array<{ field: string }>;
      expect(errors.map((e) => e.field)).toContain(field);
    });

    it('answers 422 for metadata over 16 KiB', async () => {
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: fresh(), password: STRONG_PASSWORD, metadata: { blob: 'x'.repeat(17 * 1024) } },
      });
      expectError(res, 422, 'VALIDATION_ERROR');
    });

    it('refuses role admin from a non-admin with 403, but accepts role regular', async () => {
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: fresh(), password: STRONG_PASSWORD, role: 'admin' },
      });
      expectError(res, 403, 'FORBIDDEN');
      const ok = await register(gk.app, fresh(), { role: 'regular' });
      expect(ok.role).toBe('regular');
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: fresh(), password: STRONG_PASSWORD, metadata: { x: 'y'.repeat(70_000) } }),
      });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('answers 415 for text/plain and for a form body', async () => {
      const text = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'text/plain' },
        payload: 'username=x',
      });
      expectError(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
      const form = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `username=${fresh()}&password=${encodeURIComponent(STRONG_PASSWORD)}`,
      });
      expectError(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 400 for malformed JSON and for prototype pollution', async () => {
      const bad = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: '{"username": ',
      });
      expectError(bad, 400, 'BAD_REQUEST');
      const proto = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: '{"username":"protouser","password":"Sup3r-Secret!","__proto__":{"role":"admin"}}',
      });
      expect(proto.statusCode).toBe(400);
    });

    it('answers 403 REGISTRATION_DISABLED when self-registration is off, while an admin can still create users', async () => {
      const closed = await startGatekeeper('memory', { GATEKEEPER_ALLOW_REGISTRATION: 'false' });
      try {
        const res = await closed.app.inject({
          method: 'POST',
          url: '/auth/register',
          payload: { username: 'nobody_here', password: STRONG_PASSWORD },
        });
        expectError(res, 403, 'REGISTRATION_DISABLED');
        const admin = await adminTokens(closed);
        const created = await closed.app.inject({
          method: 'POST',
          url: '/auth/users',
          headers: bearer(admin.access_token),
          payload: { username: 'made_by_admin', password: STRONG_PASSWORD },
        });
        expect(created.statusCode).toBe(201);
      } finally {
        await closed.close();
      }
    });

    it('registers exactly one of many concurrent requests for one username', async () => {
      const name = fresh('racer');
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          gk.app.inject({
            method: 'POST',
            url: '/auth/register',
            payload: { username: name, password: STRONG_PASSWORD },
          }),
        ),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    });
  });

  describe('POST /auth/login', () => {
    it('returns a token pair with the claims of docs/API.md', async () => {
      const body = await register(gk.app, 'Claimant', { email: 'claims@example.com' });
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'Claimant', password: STRONG_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const tokens = json(res);
      expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 1800, refresh_expires_in: 604800 });
      const claims = decodeJwt(tokens.access_token as string);
      expect(claims).toMatchObject({ sub: body.id, username: 'Claimant', role: 'regular', type: 'access' });
      expect(typeof claims.sid).toBe('string');
      expect(typeof claims.jti).toBe('string');
      expect((claims.exp as number) - (claims.iat as number)).toBe(1800);
    });

    it('accepts the OAuth2 password grant as a form', async () => {
      const name = fresh();
      await register(gk.app, name);
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=password&username=${name}&password=${encodeURIComponent(STRONG_PASSWORD)}`,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(typeof json(res).access_token).toBe('string');
    });

    it('accepts the email or another case of the username', async () => {
      const name = fresh('MixedCase');
      await register(gk.app, name, { email: `${name}@example.com` });
      await login(gk.app, name.toUpperCase());
      await login(gk.app, `${name.toLowerCase()}@EXAMPLE.com`);
    });

    it('answers the same 401 for unknown user, wrong password and inactive user', async () => {
      const name = fresh();
      await register(gk.app, name);
      const inactive = fresh();
      await register(gk.app, inactive);
      await gk.service.updateUser(inactive, { isActive: false });
      const attempts = [
        { username: 'no_such_user_x', password: STRONG_PASSWORD },
        { username: name, password: 'Wrong-Passw0rd!' },
        { username: inactive, password: STRONG_PASSWORD },
      ];
      const bodies = [];
      for (const payload of attempts) {
        const res = await gk.app.inject({ method: 'POST', url: '/auth/login', payload });
        expectError(res, 401, 'INVALID_CREDENTIALS');
        expect(res.headers['www-authenticate']).toBe('Bearer');
        bodies.push(res.body);
      }
      expect(new Set(bodies).size).toBe(1);
    });

    it('answers 422 when a field is missing', async () => {
      const res = await gk.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'x' } });
      expectError(res, 422, 'VALIDATION_ERROR');
    });
  });

  describe('access tokens', () => {
    let name: string;
    let tokens: { access_token: string; refresh_token: string };
    const secret = new TextEncoder().encode('test-secret-key-that-is-long-enough-0123456789');

    beforeAll(async () => {
      name = fresh('tok');
      await register(gk.app, name);
      tokens = await login(gk.app, name);
    });

    const me = (authorization?: string) =>
      gk.app.inject({ method: 'GET', url: '/auth/me', headers: authorization ? { authorization } : {} });

    it('GET /auth/me returns the current user', async () => {
      const res = await me(`Bearer ${tokens.access_token}`);
      expect(res.statusCode).toBe(200);
      expect(json(res).username).toBe(name);
    });

    it('answers 401 NOT_AUTHENTICATED with WWW-Authenticate when no token is sent', async () => {
      const res = await me();
      expectError(res, 401, 'NOT_AUTHENTICATED');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it.each([
      ['a malformed header', 'Token abc'],
      ['garbage', 'Bearer not.a.jwt'],
      ['a refresh token', 'REFRESH'],
      ['a tampered signature', 'TAMPERED'],
      ['alg none', 'NONE'],
      ['a token signed with another secret', 'OTHER'],
      ['a token without type access', 'NOTYPE'],
    ])('answers 401 for %s', async (_label, kind) => {
      let header = kind;
      const claims = decodeJwt(tokens.access_token);
      if (kind === 'REFRESH') header = `Bearer ${tokens.refresh_token}`;
      if (kind === 'TAMPERED')
        header = `Bearer ${tokens.access_token.slice(0, -3)}${tokens.access_token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
      if (kind === 'NONE') {
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        header = `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      }
      if (kind === 'OTHER') {
        const jwt = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode('x'.repeat(40)));
        header = `Bearer ${jwt}`;
      }
      if (kind === 'NOTYPE') {
        const jwt = await new SignJWT({ ...claims, type: 'refresh' }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
        header = `Bearer ${jwt}`;
      }
      const res = await me(header);
      expect(res.statusCode, res.body).toBe(401);
      expect(['INVALID_TOKEN', 'NOT_AUTHENTICATED']).toContain(json(res).code);
    });

    it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
      const claims = decodeJwt(tokens.access_token);
      const past = Math.floor(Date.now() / 1000) - 3600;
      const jwt = await new SignJWT({ ...claims, iat: past - 60, exp: past })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(secret);
      expectError(await me(`Bearer ${jwt}`), 401, 'TOKEN_EXPIRED');
    });

    it('answers 401 once the user is deleted or deactivated', async () => {
      const admin = await adminTokens(gk);
      for (const action of ['deactivate', 'delete'] as const) {
        const who = fresh('gone');
        await register(gk.app, who);
        const t = await login(gk.app, who);
        const res =
          action === 'delete'
            ? await gk.app.inject({ method: 'DELETE', url: `/auth/users/${who}`, headers: bearer(admin.access_token) })
            : await gk.app.inject({
                method: 'PUT',
                url: `/auth/users/${who}`,
                headers: bearer(admin.access_token),
                payload: { is_active: false },
              });
        expect(res.statusCode, res.body).toBe(200);
        expect((await me(`Bearer ${t.access_token}`)).statusCode).toBe(401);
      }
    });
  });

  describe('refresh, logout, profile, password', () => {
    it('POST /auth/refresh rotates; reusing the old token after the grace window revokes the whole session', async () => {
      // Its own instance with a clock, to step past GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS (default 10).
      const clock = testClock();
      const own = await startGatekeeper(backend, {}, { now: clock.now });
      try {
        await reuseRevokesTheSession(own, clock);
      } finally {
        await own.close();
      }
    });

    async function reuseRevokesTheSession(gk: TestGatekeeper, clock: TestClock) {
      const name = fresh('rot');
      await register(gk.app, name);
      const first = await login(gk.app, name);
      const r1 = await gk.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      expect(r1.statusCode, r1.body).toBe(200);
      const second = json(r1) as { access_token: string; refresh_token: string };
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(decodeJwt(second.access_token).sid).toBe(decodeJwt(first.access_token).sid);

      clock.advance(11);
      const reuse = await gk.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      expectError(reuse, 401, 'INVALID_REFRESH_TOKEN');
      // The thief's reuse ended the family: the legitimate newer tokens are dead too.
      const afterReuse = await gk.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: second.refresh_token },
      });
      expectError(afterReuse, 401, 'INVALID_REFRESH_TOKEN');
      const meRes = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(second.access_token) });
      expectError(meRes, 401, 'TOKEN_REVOKED');
    }

    it('refresh with an unknown token or a missing field fails cleanly', async () => {
      expectError(
        await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: 'nope' } }),
        401,
        'INVALID_REFRESH_TOKEN',
      );
      expectError(await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: {} }), 422, 'VALIDATION_ERROR');
      expectError(
        await gk.app.inject({ method: 'POST', url: '/auth/refresh?refresh_token=abc' }),
        422,
        'VALIDATION_ERROR',
      );
    });

    it('POST /auth/logout ends that session: access and refresh tokens stop working, other sessions live on', async () => {
      const name = fresh('bye');
      await register(gk.app, name);
      const a = await login(gk.app, name);
      const b = await login(gk.app, name);
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/logout',
        headers: bearer(a.access_token),
        payload: { refresh_token: a.refresh_token },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(typeof json(res).message).toBe('string');
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(a.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
      expectError(
        await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: a.refresh_token } }),
        401,
        'INVALID_REFRESH_TOKEN',
      );
      expect(
        (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(b.access_token) })).statusCode,
      ).toBe(200);
    });

    it('POST /auth/logout works without a body and needs a token', async () => {
      const name = fresh('bye2');
      await register(gk.app, name);
      const a = await login(gk.app, name);
      expect(
        (await gk.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(a.access_token) })).statusCode,
      ).toBe(200);
      expectError(await gk.app.inject({ method: 'POST', url: '/auth/logout' }), 401, 'NOT_AUTHENTICATED');
    });

    it('PUT /auth/me updates the profile and refuses admin-only fields with 403', async () => {
      const name = fresh('prof');
      await register(gk.app, name);
      const t = await login(gk.app, name);
      const ok = await gk.app.inject({
        method: 'PUT',
        url: '/auth/me',
        headers: bearer(t.access_token),
        payload: {
          email: `${name}@example.org`,
          metadata: { theme: 'dark' },
          profile_picture_url: 'https://example.org/a.png',
        },
      });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(json(ok)).toMatchObject({ email: `${name}@example.org`, metadata: { theme: 'dark' } });
      for (const payload of [{ role: 'admin' }, { is_active: false }, { yapcoin_balance: 1000 }]) {
        const res = await gk.app.inject({ method: 'PUT', url: '/auth/me', headers: bearer(t.access_token), payload });
        expectError(res, 403, 'FORBIDDEN');
      }
      const other = fresh('prof_other');
      await register(gk.app, other);
      expectError(
        await gk.app.inject({
          method: 'PUT',
          url: '/auth/me',
          headers: bearer(t.access_token),
          payload: { username: other },
        }),
        409,
        'USERNAME_TAKEN',
      );
      const me = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(t.access_token) });
      expect(json(me).role).toBe('regular');
    });

    it('POST /auth/change-password checks the current password and ends every earlier session', async () => {
      const name = fresh('pw');
      await register(gk.app, name);
      const old = await login(gk.app, name);
      const wrong = await gk.app.inject({
        method: 'POST',
        url: '/auth/change-password',
        headers: bearer(old.access_token),
        payload: { current_password: 'Not-The-0ne!', new_password: 'N3w-Password!' },
      });
      expectError(wrong, 400, 'INVALID_PASSWORD');
      const weak = await gk.app.inject({
        method: 'POST',
        url: '/auth/change-password',
        headers: bearer(old.access_token),
        payload: { current_password: STRONG_PASSWORD, new_password: 'weak' },
      });
      expectError(weak, 422, 'VALIDATION_ERROR');
      const res = await gk.app.inject({
        method: 'POST',
        url: '/auth/change-password',
        headers: bearer(old.access_token),
        payload: { current_password: STRONG_PASSWORD, new_password: 'N3w-Password!' },
      });
      expect(res.statusCode, res.body).toBe(200);
      const fresh2 = json(res) as { access_token: string };
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(old.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
      expect(
        (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(fresh2.access_token) })).statusCode,
      ).toBe(200);
      expectError(
        await gk.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { username: name, password: STRONG_PASSWORD },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
      await login(gk.app, name, 'N3w-Password!');
    });
  });
});
