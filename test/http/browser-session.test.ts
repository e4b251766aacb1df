/**
 * Issue 15, point 4: how a browser holds the session. The pages sign in through /auth/session, and
 * the token pair goes into two HttpOnly, SameSite=Strict cookies (Secure except over plain HTTP on a
 * loopback host), scoped to /auth and /auth/session; no body carries a token. A cookie-authenticated
 * request needs the CSRF header and must come from this site. Also: the pages' strict CSP, hashed
 * immutable assets, `return_to` limited to the configured origins, GATEKEEPER_UI=false, and the
 * branding settings. Against memory and real PostgreSQL.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import {
  BACKENDS,
  STRONG_PASSWORD,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';

const CSRF = { 'x-gatekeeper-csrf': '1' };
const NEW_PASSWORD = 'An0ther-Secret!';

interface Cookie {
  name: string;
  value: string;
  attributes: string[];
}

function setCookies(response: LightMyRequestResponse): Cookie[] {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.map((line) => {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair.indexOf('=');
    return { name: pair.slice(0, separator), value: pair.slice(separator + 1), attributes };
  });
}

/** The browser's cookie jar after `response`: name → value, expired ones dropped. */
function jar(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(
    setCookies(response)
      .filter((c) => !c.attributes.includes('Max-Age=0'))
      .map((c) => [c.name, c.value]),
  );
}

const cookieHeader = (cookies: Record<string, string>) =>
  Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

function signIn(app: FastifyInstance, username: string, password = STRONG_PASSWORD, headers: object = CSRF) {
  return app.inject({ method: 'POST', url: '/auth/session', payload: { username, password }, headers: { ...headers } });
}

/** What the pages send for an API call: the cookies and the CSRF header. */
function withCookies(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  cookies: Record<string, string>,
  extra: object = CSRF,
) {
  return app.inject({ method, url, headers: { cookie: cookieHeader(cookies), ...extra } });
}

describe.each(BACKENDS)('the browser session in cookies (%s store)', (backend) => {
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper(backend, { GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '3' });
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('signs in into two HttpOnly SameSite=Strict cookies scoped to /auth and /auth/session, and no token in the body', async () => {
    await register(gk.app, 'cookie_ada');
    const res = await signIn(gk.app, 'cookie_ada');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = json(res);
    expect(body).toEqual({
      signed_in: true,
      user: expect.objectContaining({ username: 'cookie_ada' }),
      expires_in: 1800,
    });
    expect(res.body).not.toMatch(/access_token|refresh_token|eyJ/);
    const cookies = setCookies(res);
    expect(cookies.map((c) => c.name).sort()).toEqual(['gatekeeper-access', 'gatekeeper-refresh']);
    const access = cookies.find((c) => c.name === 'gatekeeper-access')!;
    const refresh = cookies.find((c) => c.name === 'gatekeeper-refresh')!;
    expect(access.attributes).toEqual(
      expect.arrayContaining(['Path=/auth', 'HttpOnly', 'SameSite=Strict', 'Max-Age=1800']),
    );
    expect(refresh.attributes).toEqual(expect.arrayContaining(['Path=/auth/session', 'HttpOnly', 'SameSite=Strict']));
    // Plain HTTP on a loopback host (inject's Host is localhost:80): the newcomer's case, without Secure.
    expect([...access.attributes, ...refresh.attributes]).not.toContain('Secure');

    const me = await withCookies(gk.app, 'GET', '/auth/me', jar(res));
    expect(me.statusCode, me.body).toBe(200);
    expect(json(me).username).toBe('cookie_ada');
  });

  it('is Secure with the __Secure- prefix on any other host, and over HTTPS', async () => {
    await register(gk.app, 'cookie_bo');
    const res = await signIn(gk.app, 'cookie_bo', STRONG_PASSWORD, { ...CSRF, host: 'id.example.com' });
    expect(res.statusCode, res.body).toBe(200);
    const cookies = setCookies(res);
    expect(cookies.map((c) => c.name).sort()).toEqual(['__Secure-gatekeeper-access', '__Secure-gatekeeper-refresh']);
    for (const cookie of cookies) expect(cookie.attributes).toContain('Secure');
    const me = await withCookies(gk.app, 'GET', '/auth/me', jar(res), { ...CSRF, host: 'id.example.com' });
    expect(me.statusCode, me.body).toBe(200);
  });

  it('refuses a cookie-authenticated call without the CSRF header or from another site, and signing in from one', async () => {
    await register(gk.app, 'cookie_cy');
    const cookies = jar(await signIn(gk.app, 'cookie_cy'));
    expectError(await withCookies(gk.app, 'GET', '/auth/me', cookies, {}), 403, 'CROSS_SITE_REQUEST');
    expectError(
      await withCookies(gk.app, 'DELETE', '/auth/sessions', cookies, { ...CSRF, origin: 'https://evil.example' }),
      403,
      'CROSS_SITE_REQUEST',
    );
    expectError(
      await withCookies(gk.app, 'GET', '/auth/me', cookies, { ...CSRF, 'sec-fetch-site': 'cross-site' }),
      403,
      'CROSS_SITE_REQUEST',
    );
    // Same site: the browser's own headers for a same-origin fetch.
    const same = await withCookies(gk.app, 'GET', '/auth/me', cookies, {
      ...CSRF,
      origin: 'http://localhost:80',
      'sec-fetch-site': 'same-origin',
    });
    expect(same.statusCode, same.body).toBe(200);
    // Login CSRF: another site cannot sign a visitor in to an account of its choosing.
    const forged = await signIn(gk.app, 'cookie_cy', STRONG_PASSWORD, { origin: 'https://evil.example' });
    expectError(forged, 403, 'CROSS_SITE_REQUEST');
    expect(setCookies(forged)).toEqual([]);
    expectError(await signIn(gk.app, 'cookie_cy', STRONG_PASSWORD, {}), 403, 'CROSS_SITE_REQUEST');
    // A bearer token is not a cookie: API clients need no CSRF header.
    const { access_token } = await login(gk.app, 'cookie_cy');
    const api = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(access_token) });
    expect(api.statusCode).toBe(200);
  });

  it('answers wrong passwords as the login does, on the same throttle', async () => {
    await register(gk.app, 'cookie_di');
    for (let i = 0; i < 3; i++)
      expectError(await signIn(gk.app, 'cookie_di', 'wrong-password-1'), 401, 'INVALID_CREDENTIALS');
    const locked = await signIn(gk.app, 'cookie_di');
    expectError(locked, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The JSON login shares the counter.
    expectError(
      await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'cookie_di', password: STRONG_PASSWORD },
      }),
      429,
      'TOO_MANY_ATTEMPTS',
    );
  });

  it('refreshes from the refresh cookie into new cookies; without a live one it is 401 and drops them', async () => {
    await register(gk.app, 'cookie_ed');
    const first = jar(await signIn(gk.app, 'cookie_ed'));
    const refreshed = await withCookies(gk.app, 'POST', '/auth/session/refresh', first);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.body).not.toMatch(/eyJ/);
    const second = jar(refreshed);
    expect(second['gatekeeper-refresh']).toBeDefined();
    expect(second['gatekeeper-refresh']).not.toBe(first['gatekeeper-refresh']);
    expect((await withCookies(gk.app, 'GET', '/auth/me', second)).statusCode).toBe(200);

    expectError(await withCookies(gk.app, 'POST', '/auth/session/refresh', {}), 401, 'INVALID_REFRESH_TOKEN');
    const bogus = await withCookies(gk.app, 'POST', '/auth/session/refresh', { 'gatekeeper-refresh': 'not-a-token' });
    expectError(bogus, 401, 'INVALID_REFRESH_TOKEN');
    expect(setCookies(bogus).every((c) => c.attributes.includes('Max-Age=0'))).toBe(true);
    expectError(await withCookies(gk.app, 'POST', '/auth/session/refresh', second, {}), 403, 'CROSS_SITE_REQUEST');
  });

  it('changes the password from the pages: this session goes on in fresh cookies, every other one ends', async () => {
    await register(gk.app, 'cookie_fay');
    const other = await login(gk.app, 'cookie_fay');
    const cookies = jar(await signIn(gk.app, 'cookie_fay'));
    const change = (current: string) =>
      gk.app.inject({
        method: 'POST',
        url: '/auth/session/password',
        headers: { ...CSRF, cookie: cookieHeader(cookies) },
        payload: { current_password: current, new_password: NEW_PASSWORD },
      });
    expectError(await change('wrong-password-1'), 400, 'INVALID_PASSWORD');
    const changed = await change(STRONG_PASSWORD);
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.body).not.toMatch(/eyJ/);
    expect((await withCookies(gk.app, 'GET', '/auth/me', jar(changed))).statusCode).toBe(200);
    expectError(await withCookies(gk.app, 'GET', '/auth/me', cookies), 401, 'TOKEN_REVOKED');
    expectError(
      await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(other.access_token) }),
      401,
      'TOKEN_REVOKED',
    );
  });

  it('signs out: the session ends everywhere and the cookies are dropped, even with the access cookie gone', async () => {
    await register(gk.app, 'cookie_gus');
    const cookies = jar(await signIn(gk.app, 'cookie_gus'));
    const out = await withCookies(gk.app, 'DELETE', '/auth/session', cookies);
    expect(out.statusCode, out.body).toBe(200);
    const dropped = setCookies(out);
    expect(dropped.length).toBeGreaterThanOrEqual(2);
    expect(dropped.every((c) => c.attributes.includes('Max-Age=0'))).toBe(true);
    expectError(await withCookies(gk.app, 'GET', '/auth/me', cookies), 401, 'TOKEN_REVOKED');
    expectError(await withCookies(gk.app, 'POST', '/auth/session/refresh', cookies), 401, 'INVALID_REFRESH_TOKEN');

    // Only the refresh cookie left (the access one expired in the browser): signing out still ends the session.
    const again = jar(await signIn(gk.app, 'cookie_gus'));
    const refreshOnly = { 'gatekeeper-refresh': again['gatekeeper-refresh']! };
    expect((await withCookies(gk.app, 'DELETE', '/auth/session', refreshOnly)).statusCode).toBe(200);
    expectError(await withCookies(gk.app, 'GET', '/auth/me', again), 401, 'TOKEN_REVOKED');
  });

  it('DELETE /auth/sessions signs out everywhere, this session included', async () => {
    await register(gk.app, 'cookie_hal');
    const a = await login(gk.app, 'cookie_hal');
    const b = await login(gk.app, 'cookie_hal');
    const res = await gk.app.inject({ method: 'DELETE', url: '/auth/sessions', headers: bearer(a.access_token) });
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res).message).toMatch(/2 sessions/);
    for (const tokens of [a, b]) {
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
    }
    const audit = await gk.service.listAuditEvents({ user: 'cookie_hal', event: 'tokens.revoke', limit: 5 });
    expect(audit[0]?.detail).toMatchObject({ by: 'cookie_hal', sessions: 2 });
  });

  it('takes the second factor: a challenge and no cookie first, then the code', async () => {
    await register(gk.app, 'cookie_ivy');
    const { access_token } = await login(gk.app, 'cookie_ivy');
    const setup = await gk.app.inject({
      method: 'POST',
      url: '/auth/mfa/totp/setup',
      headers: bearer(access_token),
      payload: { password: STRONG_PASSWORD },
    });
    const secret = json(setup).secret as string;
    const confirm = await gk.app.inject({
      method: 'POST',
      url: '/auth/mfa/totp/confirm',
      headers: bearer(access_token),
      payload: { code: await generate({ secret }) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const [recovery] = json(confirm).recovery_codes as string[];

    const first = await signIn(gk.app, 'cookie_ivy');
    expect(first.statusCode).toBe(200);
    expect(json(first)).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
    expect(setCookies(first)).toEqual([]);
    const mfaToken = json(first).mfa_token as string;
    const step = (code: string) =>
      gk.app.inject({
        method: 'POST',
        url: '/auth/session/mfa',
        headers: CSRF,
        payload: { mfa_token: mfaToken, code },
      });
    expectError(await step('00000000'), 401, 'INVALID_CODE');
    const done = await step(recovery!);
    expect(done.statusCode, done.body).toBe(200);
    expect(json(done)).toMatchObject({ signed_in: true, user: { username: 'cookie_ivy', mfa_enabled: true } });
    expect((await withCookies(gk.app, 'GET', '/auth/me', jar(done))).statusCode).toBe(200);
  });
});

describe('the pages: strict CSP, hashed assets, return_to, branding, GATEKEEPER_UI', () => {
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper('memory', {
      GATEKEEPER_PUBLIC_URL: 'https://id.example.test',
      GATEKEEPER_RETURN_TO_ORIGINS: 'https://app.example.test',
      GATEKEEPER_PRODUCT_NAME: 'Acme <ID> & Co',
      GATEKEEPER_UI_ACCENT: '#aa3300',
      GATEKEEPER_UI_LOGO_URL: 'https://cdn.example.test/logo.svg',
    });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const get = (url: string) => gk.app.inject({ method: 'GET', url });
  const returnToOf = (body: string) => /data-return-to="([^"]*)"/.exec(body)?.[1];

  it.each([
    '/login',
    '/register',
    '/forgot-password',
    '/reset-password',
    '/verify-email',
    '/mfa',
    '/account',
    '/admin',
  ])('%s is a page under the strict policy, with no inline script or style', async (url) => {
    const page = await get(url);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https://cdn.example.test; " +
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    for (const [, src] of page.body.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)) {
      const asset = await get(src!);
      expect(asset.statusCode, src).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(String(asset.headers['content-type'])).toMatch(/^text\/(javascript|css)/);
    }
  });

  it('names every asset by its content hash, and an unknown name is a 404', async () => {
    const page = (await get('/login')).body;
    const urls = [...page.matchAll(/"(\/ui\/assets\/([a-z-]+)\.([0-9a-f]{12})\.(js|css))"/g)];
    expect(urls.length).toBeGreaterThanOrEqual(4);
    const { createHash } = await import('node:crypto');
    for (const [, url, , hash] of urls) {
      const body = (await get(url!)).rawPayload;
      expect(createHash('sha256').update(body).digest('hex').slice(0, 12)).toBe(hash);
    }
    expect((await get('/ui/assets/gatekeeper.000000000000.js')).statusCode).toBe(404);
    expect((await get('/ui/assets/../../package.json')).statusCode).toBe(404);
  });

  it('escapes the product name, and the accent colour is a stylesheet of its own', async () => {
    const page = (await get('/login')).body;
    expect(page).toContain('<title>Sign in · Acme &lt;ID&gt; &amp; Co</title>');
    expect(page).not.toContain('<ID>');
    expect(page).toContain('<img src="https://cdn.example.test/logo.svg"');
    const theme = /href="(\/ui\/assets\/theme\.[0-9a-f]+\.css)"/.exec(page)![1]!;
    expect((await get(theme)).body).toContain('--accent:#aa3300');
  });

  it('keeps a return_to on this host or a configured origin, and drops every other one', async () => {
    const cases: [string, string][] = [
      ['/admin', '/admin'],
      ['/account?tab=sessions', '/account?tab=sessions'],
      ['https://app.example.test/after', 'https://app.example.test/after'],
      ['https://id.example.test/account', 'https://id.example.test/account'],
      ['https://evil.example/', ''],
      ['//evil.example/x', ''],
      ['/\\evil.example', ''],
      ['javascript:alert(1)', ''],
      ['https://app.example.test.evil.example/', ''],
      ['https://user@app.example.test/', ''],
    ];
    for (const [given, kept] of cases) {
      const page = await get(`/login?return_to=${encodeURIComponent(given)}`);
      expect(returnToOf(page.body), given).toBe(kept.replace(/&/g, '&amp;'));
    }
    const quoted = await get(`/login?return_to=${encodeURIComponent('/x"><script>alert(1)</script>')}`);
    expect(quoted.body).not.toContain('<script>alert(1)');
    expect(returnToOf(quoted.body)).toBe('/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('leads / to the account page', async () => {
    const root = await get('/');
    expect(root.statusCode).toBe(303);
    expect(root.headers.location).toBe('/account');
  });

  it('GATEKEEPER_UI=false serves no page, no asset and no cookie session', async () => {
    const off = await startGatekeeper('memory', { GATEKEEPER_UI: 'false' });
    try {
      for (const url of ['/login', '/account', '/admin', '/reset-password', '/']) {
        expect((await off.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
      }
      const res = await off.app.inject({
        method: 'POST',
        url: '/auth/session',
        headers: CSRF,
        payload: { username: 'a', password: 'b' },
      });
      expect(res.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('GATEKEEPER_ALLOW_REGISTRATION=false hides /register', async () => {
    const closed = await startGatekeeper('memory', { GATEKEEPER_ALLOW_REGISTRATION: 'false' });
    try {
      expect((await closed.app.inject({ method: 'GET', url: '/register' })).statusCode).toBe(404);
      expect((await closed.app.inject({ method: 'GET', url: '/login' })).body).toContain('data-registration="false"');
    } finally {
      await closed.close();
    }
  });

  it('refuses a bad accent, logo or return_to origin at start, naming the setting', () => {
    const problems = (env: Record<string, string>) => {
      try {
        testConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ GATEKEEPER_UI_ACCENT: 'red' })[0]).toMatch(/GATEKEEPER_UI_ACCENT/);
    expect(problems({ GATEKEEPER_UI_ACCENT: '#12345g' })[0]).toMatch(/GATEKEEPER_UI_ACCENT/);
    expect(problems({ GATEKEEPER_UI_LOGO_URL: 'http://cdn.example/logo.png' })[0]).toMatch(/GATEKEEPER_UI_LOGO_URL/);
    expect(problems({ GATEKEEPER_UI_LOGO_URL: 'javascript:alert(1)' })[0]).toMatch(/GATEKEEPER_UI_LOGO_URL/);
    expect(problems({ GATEKEEPER_UI_LOGO_URL: '/static/logo".svg' })[0]).toMatch(/GATEKEEPER_UI_LOGO_URL/);
    expect(problems({ GATEKEEPER_RETURN_TO_ORIGINS: '*' })[0]).toMatch(/GATEKEEPER_RETURN_TO_ORIGINS/);
    expect(problems({ GATEKEEPER_UI: 'maybe' })[0]).toMatch(/GATEKEEPER_UI/);
    expect(problems({ GATEKEEPER_UI_LOGO_URL: '/static/logo.svg', GATEKEEPER_UI_ACCENT: '#abc' })).toEqual([]);
  });
});
