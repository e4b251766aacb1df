import { describe, expect, it } from 'vitest';
import { GatekeeperClient, GatekeeperClientError, type ClientFetch, type TokenPair } from '../../src/client/index.js';

/**
 * The client's refresh logic through its `fetch` seam: a scripted Gatekeeper that counts calls.
 * The real server is in test/http/client.test.ts.
 */
const BASE = 'https://gk.test/base/';

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const expired = () => json({ detail: 'The access token has expired.', code: 'TOKEN_EXPIRED' }, 401);
const me = { id: 'u1', username: 'alice', role: 'regular' };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** A fake Gatekeeper: `valid` is the access token it accepts; `onRefresh` decides /auth/refresh. */
function scripted(options: {
  valid?: string;
  onRefresh?: () => Response | Promise<Response>;
  onMe?: (seen: Seen, nth: number) => Response | undefined | Promise<Response | undefined>;
}) {
  const seen: Seen[] = [];
  let valid = options.valid ?? 'access-2';
  const fetch: ClientFetch = async (url, init) => {
    const u = new URL(url);
    const headers = init.headers as Record<string, string>;
    const call: Seen = {
      method: String(init.method),
      path: u.pathname.replace(/^\/base/, '') + u.search,
      authorization: headers['authorization'],
      body: init.body === undefined ? undefined : JSON.parse(String(init.body)),
    };
    seen.push(call);
    if (call.path === '/auth/refresh') {
      const response = await (options.onRefresh ?? (() => json(pairResponse('access-2', 'refresh-2'))))();
      if (response.ok) valid = ((await response.clone().json()) as TokenPair).access_token;
      return response;
    }
    const nth = seen.filter((s) => s.path === call.path).length;
    const custom = await options.onMe?.(call, nth);
    if (custom !== undefined) return custom;
    return call.authorization === `Bearer ${valid}` ? json(me) : expired();
  };
  const count = (path: string) => seen.filter((s) => s.path === path).length;
  return { fetch, seen, count };
}

function pairResponse(access: string, refresh: string) {
  return {
    access_token: access,
    refresh_token: refresh,
    token_type: 'bearer',
    expires_in: 1800,
    refresh_expires_in: 1,
  };
}

function clientOn(
  fetch: ClientFetch,
  tokens: TokenPair | null = { access_token: 'garbage', refresh_token: 'refresh-1' },
) {
  const changes: (TokenPair | null)[] = [];
  const client = new GatekeeperClient({ baseUrl: BASE, fetch, tokens, onTokens: (t) => changes.push(t) });
  return { client, changes };
}

describe('GatekeeperClient: refresh on 401', () => {
  it('five concurrent calls on an invalid access token share one refresh, then all succeed', async () => {
    const allRefused = deferred();
    let refused = 0;
    const server = scripted({
      onRefresh: async () => {
        await allRefused.promise; // the refresh answers only once every call has had its 401
        return json(pairResponse('access-2', 'refresh-2'));
      },
      onMe: (s) => {
        if (s.authorization !== 'Bearer garbage') return undefined;
        if (++refused === 5) allRefused.resolve();
        return expired();
      },
    });
    const { client, changes } = clientOn(server.fetch);
    const users = await Promise.all(Array.from({ length: 5 }, () => client.me()));
    expect(users).toEqual(Array(5).fill(me));
    expect(server.count('/auth/refresh')).toBe(1);
    expect(server.count('/auth/me')).toBe(10);
    expect(server.seen.find((s) => s.path === '/auth/refresh')?.body).toEqual({ refresh_token: 'refresh-1' });
    expect(changes).toEqual([{ access_token: 'access-2', refresh_token: 'refresh-2' }]);
    expect(client.tokens).toEqual({ access_token: 'access-2', refresh_token: 'refresh-2' });
  });

  it('a 401 that arrives after the refresh finished retries with the new token without refreshing again', async () => {
    const refreshed = deferred();
    const server = scripted({
      onMe: async (s, nth) => {
        if (nth === 2 && s.authorization === 'Bearer garbage') {
          await refreshed.promise; // this call's 401 comes only after the first call's refresh stored the pair
          return expired();
        }
        return undefined;
      },
    });
    const client = new GatekeeperClient({
      baseUrl: BASE,
      fetch: server.fetch,
      tokens: { access_token: 'garbage', refresh_token: 'refresh-1' },
      onTokens: () => refreshed.resolve(),
    });
    expect(await Promise.all([client.me(), client.me()])).toEqual([me, me]);
    expect(server.count('/auth/refresh')).toBe(1);
    expect(server.seen.filter((s) => s.path === '/auth/me').map((s) => s.authorization)).toEqual([
      'Bearer garbage',
      'Bearer garbage',
      'Bearer access-2',
      'Bearer access-2',
    ]);
  });

  it('a refused refresh clears the pair and throws each call its own 401 error', async () => {
    const server = scripted({
      onRefresh: () => json({ detail: 'The refresh token is invalid.', code: 'INVALID_REFRESH_TOKEN' }, 401),
    });
    const { client, changes } = clientOn(server.fetch);
    const errors = await Promise.all([client.me(), client.me(), client.stats()].map((p) => p.catch((e: unknown) => e)));
    for (const error of errors) {
      expect(error).toBeInstanceOf(GatekeeperClientError);
      expect(error).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
    }
    expect(server.count('/auth/refresh')).toBe(1);
    expect(changes).toEqual([null]);
    expect(client.tokens).toBeNull();
    await expect(client.me()).rejects.toMatchObject({ code: 'NOT_AUTHENTICATED', status: 401 });
    expect(server.seen).toHaveLength(4);
  });

  it('a refresh that gets 503 keeps the pair and throws the 503 with its Retry-After', async () => {
    const server = scripted({
      onRefresh: () => json({ detail: 'down', code: 'DATABASE_UNAVAILABLE' }, 503, { 'retry-after': '3' }),
    });
    const { client, changes } = clientOn(server.fetch);
    await expect(client.me()).rejects.toMatchObject({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      retryAfterSeconds: 3,
    });
    expect(client.tokens).toEqual({ access_token: 'garbage', refresh_token: 'refresh-1' });
    expect(changes).toEqual([]);
  });

  it('refreshes at most once per call: a 401 on the retry is thrown', async () => {
    const server = scripted({ onMe: () => expired() });
    const { client } = clientOn(server.fetch);
    await expect(client.me()).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    expect(server.seen.map((s) => s.path)).toEqual(['/auth/me', '/auth/refresh', '/auth/me']);
  });

  it('does not refresh for a non-401 error or a public call', async () => {
    const server = scripted({
      onMe: () => json({ detail: 'The current password is wrong.', code: 'INVALID_PASSWORD' }, 400),
    });
    const { client } = clientOn(server.fetch, { access_token: 'access-2', refresh_token: 'r' });
    await expect(client.me()).rejects.toMatchObject({ status: 400, code: 'INVALID_PASSWORD' });
    const login = scripted({
      onMe: () => json({ detail: 'Invalid username or password.', code: 'INVALID_CREDENTIALS' }, 401),
    });
    await expect(clientOn(login.fetch).client.login({ username: 'a', password: 'b' })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    expect(login.count('/auth/refresh')).toBe(0);
  });
});

describe('GatekeeperClient: requests and errors', () => {
  it('builds paths under the base URL, encodes names and queries, reads X-Total-Count', async () => {
    const server = scripted({
      onMe: (s) => (s.path.startsWith('/auth/users') ? json([me], 200, { 'x-total-count': '42' }) : undefined),
    });
    const { client } = clientOn(server.fetch, { access_token: 'access-2', refresh_token: 'r' });
    expect(await client.listUsers({ skip: 10, limit: 5, role: 'guest', is_active: false })).toEqual({
      users: [me],
      total: 42,
    });
    await client.getUser('a/b c');
    await client.addYapcoins('bob', -3);
    expect(server.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /auth/users?skip=10&limit=5&role=guest&is_active=false',
      'GET /auth/users/a%2Fb%20c',
      'POST /auth/users/bob/yapcoins',
    ]);
    expect(server.seen[2]!.body).toEqual({ delta: -3 });
    expect(server.seen.every((s) => s.authorization === 'Bearer access-2')).toBe(true);
  });

  it('turns error bodies, no answer and foreign answers into GatekeeperClientError', async () => {
    const fieldErrors = [{ field: 'password', message: 'too short' }];
    const answers: (() => Response)[] = [
      () => json({ detail: 'Invalid input.', code: 'VALIDATION_ERROR', errors: fieldErrors }, 422),
      () => json({ detail: 'Too many attempts.', code: 'TOO_MANY_ATTEMPTS' }, 429, { 'retry-after': '60' }),
      () => new Response('<html>Bad gateway</html>', { status: 502 }),
      () => {
        throw new TypeError('fetch failed');
      },
    ];
    let i = 0;
    const client = new GatekeeperClient({ baseUrl: BASE, fetch: async () => answers[i++]!() });
    const errors = [];
    for (let n = 0; n < answers.length; n++) {
      errors.push(await client.register({ username: 'bob', password: 'x' }).catch((e: unknown) => e));
    }
    expect(errors[0]).toMatchObject({ status: 422, code: 'VALIDATION_ERROR', errors: fieldErrors });
    expect(errors[1]).toMatchObject({ status: 429, code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: 60 });
    expect(errors[2]).toMatchObject({ status: 502, code: 'UNEXPECTED_RESPONSE' });
    expect(errors[3]).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
    for (const error of errors) expect(error).toBeInstanceOf(GatekeeperClientError);
  });

  it('logout clears the pair even when the server call fails', async () => {
    const server = scripted({ onMe: () => json({ detail: 'down', code: 'DATABASE_UNAVAILABLE' }, 503) });
    const { client, changes } = clientOn(server.fetch, { access_token: 'access-2', refresh_token: 'r' });
    await expect(client.logout()).rejects.toMatchObject({ status: 503 });
    expect(server.seen[0]).toMatchObject({ path: '/auth/logout', body: { refresh_token: 'r' } });
    expect(client.tokens).toBeNull();
    expect(changes).toEqual([null]);
  });
});
