import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requireAuth, requireRole, type AuthRequest, type Middleware } from '../../src/express/index.js';
import { MIDDLEWARE_STATUS } from '../../src/express/respond.js';
import { STATUS_BY_CODE } from '../../src/http/error-handler.js';
import { createVerifier } from '../../src/verifier/index.js';
import {
  NOW,
  SECRET,
  SETTINGS,
  USER,
  asymmetricIssuer,
  hs256Issuer,
  jwksServer,
  manualClock,
} from './verifier-fixtures.js';

/**
 * The middleware on a plain node:http server (Express is not installed): real HTTP on loopback,
 * real tokens. The chain runner calls `next` as Connect does; `next(err)` answers 500 "next(err)".
 */
const OPTIONS = { secret: SECRET, issuer: SETTINGS.issuer, audience: SETTINGS.audience, now: () => NOW };

let servers: Server[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
  for (const close of closers.splice(0)) await close();
});

async function serve(...chain: Middleware[]): Promise<string> {
  const server = createServer((req, res) => {
    const request = req as unknown as AuthRequest;
    const step = (i: number) => (err?: unknown) => {
      if (err !== undefined) {
        res.statusCode = 500;
        res.end('next(err)');
      } else if (i === chain.length) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ user: request.user }));
      } else {
        void chain[i]!(request, res, step(i + 1));
      }
    };
    step(0)();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function call(url: string, authorization?: string) {
  const response = await fetch(url, authorization === undefined ? {} : { headers: { authorization } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: safeJson(text) };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

const token = (role: 'admin' | 'regular' | 'guest' = 'regular', at = NOW) =>
  hs256Issuer().issue({ ...USER, role }, 'sid-1', at);

function expectContractError(res: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.body).toEqual({ detail: expect.any(String), code });
  if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Bearer');
}

describe('requireAuth', () => {
  it('puts the verified user on req.user and calls next', async () => {
    const url = await serve(requireAuth(OPTIONS));
    const res = await call(url, `Bearer ${await token()}`);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ sub: USER.id, username: 'alice', role: 'regular', sid: 'sid-1' });
  });

  it('takes a verifier too (EdDSA keys from a JWKS)', async () => {
    const issuer = await asymmetricIssuer('EdDSA');
    const jwks = await jwksServer([issuer.publicJwk]);
    closers.push(jwks.close);
    const verifier = createVerifier({ jwksUrl: jwks.url }, { audience: SETTINGS.audience, now: () => NOW });
    const url = await serve(requireAuth(verifier));
    expect((await call(url, `Bearer ${await issuer.tokens.issue(USER, 's', NOW)}`)).status).toBe(200);
    expectContractError(await call(url, `Bearer ${await token()}`), 401, 'INVALID_TOKEN');
  });

  it('answers 401 in the contract shape for a missing, malformed, foreign or expired token', async () => {
    const clock = manualClock();
    const url = await serve(requireAuth({ ...OPTIONS, now: clock.now }));
    expectContractError(await call(url), 401, 'NOT_AUTHENTICATED');
    expectContractError(await call(url, ''), 401, 'NOT_AUTHENTICATED');
    const good = await token();
    expectContractError(await call(url, `Basic ${good}`), 401, 'INVALID_TOKEN');
    expectContractError(await call(url, `Bearer ${good} extra`), 401, 'INVALID_TOKEN');
    expectContractError(await call(url, 'Bearer not-a-jwt'), 401, 'INVALID_TOKEN');
    const foreign = await hs256Issuer(SETTINGS, `${SECRET}-elsewhere`).issue(USER, 's', NOW);
    expectContractError(await call(url, `Bearer ${foreign}`), 401, 'INVALID_TOKEN');
    clock.advance(31 * 60);
    const expired = await call(url, `Bearer ${good}`);
    expectContractError(expired, 401, 'TOKEN_EXPIRED');
    expect(expired.text).not.toContain(good);
  });

  it('a revoked token (introspection) is 401 TOKEN_REVOKED; an unreachable endpoint is 503 with Retry-After', async () => {
    let answer: Response | Error = new Response('{"active":false}', { status: 200 });
    const introspection = {
      url: 'https://gk.test/auth/introspect',
      clientId: 'svc',
      clientSecret: 'x',
      cacheSeconds: 0,
    };
    const fetch = async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const url = await serve(requireAuth({ ...OPTIONS, introspection, fetch }));
    const good = `Bearer ${await token()}`;
    expectContractError(await call(url, good), 401, 'TOKEN_REVOKED');
    answer = new TypeError('fetch failed');
    const down = await call(url, good);
    expectContractError(down, 503, 'DATABASE_UNAVAILABLE');
    expect(down.headers.get('retry-after')).toBe('5');
  });

  it('hostile Authorization headers are never a 500', async () => {
    const url = await serve(requireAuth(OPTIONS));
    const good = await token();
    const [h, p] = good.split('.') as [string, string];
    const hostile = [
      'Bearer',
      'Bearer ',
      'bearer    ',
      `Bearer ${'a'.repeat(9_000)}`,
      `Bearer ${h}.${p}.`,
      `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`,
      `Bearer ${Buffer.from('{"alg":"HS256","crit":["x"]}').toString('base64url')}.${p}.AAAA`,
      `Bearer ${Buffer.from('[]').toString('base64url')}.${Buffer.from('null').toString('base64url')}.AA`,
      'Bearer ....',
      'Bearer %00',
    ];
    for (const header of hostile) {
      const res = await call(url, header);
      expect(res.status, header.slice(0, 40)).toBe(401);
      expect(['NOT_AUTHENTICATED', 'INVALID_TOKEN']).toContain(res.body.code);
    }
  });

  it('refuses unusable options at setup', () => {
    expect(() => requireAuth({} as never)).toThrow(TypeError);
    expect(() => requireAuth({ secret: SECRET, jwksUrl: 'https://gk.test/jwks' } as never)).toThrow(TypeError);
    expect(() => requireAuth({ secret: 'too short' })).toThrow(TypeError);
  });
});

describe('requireRole', () => {
  it('ranks admin > regular > guest', async () => {
    const auth = requireAuth(OPTIONS);
    const urls = {
      admin: await serve(auth, requireRole('admin')),
      regular: await serve(auth, requireRole('regular')),
      guest: await serve(auth, requireRole('guest')),
    };
    const allowed = { admin: ['admin'], regular: ['admin', 'regular'], guest: ['admin', 'regular', 'guest'] };
    for (const [route, url] of Object.entries(urls)) {
      for (const role of ['admin', 'regular', 'guest'] as const) {
        const res = await call(url, `Bearer ${await token(role)}`);
        if (allowed[route as keyof typeof allowed].includes(role)) {
          expect(res.status, `${role} on ${route}`).toBe(200);
          expect(res.body.user).toMatchObject({ role });
        } else {
          expectContractError(res, 403, 'FORBIDDEN');
        }
      }
    }
  });

  it('without requireAuth before it, lets nothing through (401); an unknown role is a TypeError', async () => {
    const url = await serve(requireRole('guest'));
    expectContractError(await call(url, `Bearer ${await token('admin')}`), 401, 'NOT_AUTHENTICATED');
    expect(() => requireRole('root' as never)).toThrow(TypeError);
  });

  it("answers with the same statuses as Gatekeeper's error handler", () => {
    for (const [code, status] of Object.entries(MIDDLEWARE_STATUS)) {
      expect(STATUS_BY_CODE[code as keyof typeof STATUS_BY_CODE], code).toBe(status);
    }
  });
});
