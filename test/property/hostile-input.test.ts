import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  adminTokens,
  bearer,
  register,
  login,
  startGatekeeper,
  type TestGatekeeper,
} from '../support/app.js';

const ROUTES: Array<[method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, auth: 'none' | 'user' | 'admin']> = [
  ['POST', '/auth/register', 'none'],
  ['POST', '/auth/login', 'none'],
  ['POST', '/auth/refresh', 'none'],
  ['POST', '/auth/logout', 'user'],
  ['PUT', '/auth/me', 'user'],
  ['POST', '/auth/change-password', 'user'],
  ['POST', '/auth/users', 'admin'],
  ['PUT', '/auth/users/target_user', 'admin'],
  ['POST', '/auth/users/target_user/yapcoins', 'admin'],
  ['GET', '/auth/users', 'admin'],
];

const FIELDS = [
  'username',
  'password',
  'email',
  'role',
  'is_active',
  'metadata',
  'profile_picture_url',
  'refresh_token',
  'current_password',
  'new_password',
  'delta',
  'yapcoin_balance',
  '__proto__',
  'constructor',
];

/** JSON values of every shape, with the strings attackers like: NULs, huge numbers, unicode, SQL. */
const hostileValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom("' OR 1=1 --", '\u0000', 'a\u0000b', '%', '_', '\\', '${jndi}', '../../etc/passwd', 'Sup3r-Secret!'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53, -(2 ** 31) - 1),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const hostileBody = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 6 }),
  hostileValue,
  fc.json(),
);

describe.each(BACKENDS)('hostile input (%s store)', (backend) => {
  let gk: TestGatekeeper;
  const tokens: Record<'user' | 'admin', string> = { user: '', admin: '' };

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    tokens.admin = (await adminTokens(gk)).access_token;
    await register(gk.app, 'target_user');
    await register(gk.app, 'fuzz_user');
    tokens.user = (await login(gk.app, 'fuzz_user')).access_token;
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('no request body, however odd, gets a 5xx, and every error is JSON with a code', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        hostileBody,
        fc.boolean(),
        async ([method, url, auth], body, raw) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (auth !== 'none') Object.assign(headers, bearer(tokens[auth]));
          const payload = raw && typeof body === 'string' ? body : JSON.stringify(body);
          const res = await gk.app.inject({ method, url, headers, ...(method === 'GET' ? {} : { payload }) });
          expect(res.statusCode, `${method} ${url} ${payload.slice(0, 200)} → ${res.body}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            const parsed = JSON.parse(res.body) as { code?: unknown; detail?: unknown };
            expect(typeof parsed.code).toBe('string');
            expect(typeof parsed.detail).toBe('string');
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('no query string or path parameter gets a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }), async (a, b) => {
        const q = `/auth/users?q=${encodeURIComponent(a)}&skip=${encodeURIComponent(b)}&limit=${encodeURIComponent(a)}`;
        const path = `/auth/users/${encodeURIComponent(a)}`;
        for (const url of [q, path]) {
          const res = await gk.app.inject({ method: 'GET', url, headers: bearer(tokens.admin) });
          expect(res.statusCode, `${url} → ${res.body}`).toBeLessThan(500);
        }
      }),
      { numRuns: 200 },
    );
  });
});
