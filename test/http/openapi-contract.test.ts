/**
 * The served OpenAPI document tells the truth (issue #11, item 7): a client generated from
 * /openapi.json (openapi-typescript for the types, openapi-fetch for the calls) drives every
 * operation with good and bad input over a real port, and every response is checked against
 * the document: status listed, content type declared, body valid against the schema,
 * documented headers present. Any answer the document does not describe fails the test.
 */
import { createHash } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import { generate } from 'otplib';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { GatekeeperError } from '../../src/errors.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { Store } from '../../src/store/store.js';
import {
  CHEAP_HASH,
  STRONG_PASSWORD,
  adminTokens,
  login,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
  type Tokens,
} from '../support/app.js';
import { ContractChecker, type OpenApiDocument } from '../support/openapi-contract.js';

/** The generated types are checked at run time here, so the client is untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = Client<any>;

interface Server {
  gatekeeper: TestGatekeeper;
  baseUrl: string;
  document: OpenApiDocument;
  api: Api;
}

/** Every operationId answered at least once, with the statuses seen. */
const exercised = new Map<string, Set<number>>();
const problems: string[] = [];
/** The last request the client sent, as it went out. */
let lastRequest: Request | undefined;

async function serve(gatekeeper: TestGatekeeper): Promise<Server> {
  await gatekeeper.app.listen({ host: '127.0.0.1', port: 0 });
  const address = gatekeeper.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApiDocument;
  const checker = new ContractChecker(document);
  // Every response of the client goes through the document before the test sees it.
  const checkedFetch = async (input: Request): Promise<Response> => {
    lastRequest = input;
    const response = await fetch(input);
    const body = await response.clone().text();
    const url = new URL(input.url);
    const result = checker.check(input.method, url, response.status, response.headers, body);
    problems.push(...result.problems);
    const id = result.operation?.operation.operationId;
    if (id !== undefined) {
      const statuses = exercised.get(id) ?? new Set<number>();
      statuses.add(response.status);
      exercised.set(id, statuses);
    }
    expect(result.problems, `${input.method} ${url.pathname}: ${body.slice(0, 300)}`).toEqual([]);
    return response;
  };
  return { gatekeeper, baseUrl, document, api: createClient({ baseUrl, fetch: checkedFetch }) };
}

const auth = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
/** Sends the given text as the body, with the given content type (malformed JSON, other media types). */
const raw = (text: string, contentType = 'application/json') => ({
  body: {},
  bodySerializer: () => text,
  headers: { 'Content-Type': contentType },
});
/**
 * A memory store that can be switched off: while `down()`, every call fails as an unreachable
 * PostgreSQL does (DATABASE_UNAVAILABLE) and health() reports it unreachable.
 */
function switchableStore(store: MemoryStore, down: () => boolean): Store {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === 'close' || property === 'poolFigures') return method.bind(target);
      if (property === 'health') {
        return async () =>
          down()
            ? { reachable: false, latencyMs: null, serverVersion: null, pool: null, error: 'switched off (test)' }
            : method.call(target);
      }
      return (...args: unknown[]) =>
        down()
          ? Promise.reject(new GatekeeperError('DATABASE_UNAVAILABLE', 'switched off (test)'))
          : method.apply(target, args);
    },
  });
}

const huge = () => raw(JSON.stringify({ metadata: { blob: 'x'.repeat(70 * 1024) } }));

describe('the OpenAPI document describes every answer (postgres store, over a real port)', () => {
  let main: Server;
  let withToken: Server;
  let withheld: Server;
  let unreachable: Server;
  let down = false;
  let admin: Tokens;
  let regular: Tokens;

  beforeAll(async () => {
    // ES256 publishes a JWKS (200); the auxiliary servers sign with HS256 (404).
    main = await serve(await startGatekeeper('postgres', { GATEKEEPER_JWT_ALGORITHM: 'ES256' }));
    withToken = await serve(await startGatekeeper('memory', { GATEKEEPER_METRICS_TOKEN: 'metrics-token-0123456789' }));
    // Withheld operations details, and a hash queue of one without waiting room (503 OVERLOADED).
    withheld = await serve(
      await startGatekeeper('memory', {
        HOST: '0.0.0.0',
        GATEKEEPER_HASH_CONCURRENCY: '1',
        GATEKEEPER_HASH_QUEUE_MAX: '0',
      }),
    );
    const memory = new MemoryStore();
    const config = testConfig();
    const switchable = await buildGatekeeper(config, {
      hashParams: CHEAP_HASH,
      store: {
        store: switchableStore(memory, () => down),
        location: 'memory',
        alive: () => !down,
        close: () => memory.close(),
      },
    });
    unreachable = await serve({ ...switchable, config, databaseUrl: null });
    admin = await adminTokens(main.gatekeeper);
    await register(main.gatekeeper.app, 'regular_user');
    regular = await login(main.gatekeeper.app, 'regular_user');
  });
  afterAll(async () => {
    down = false;
    await Promise.all([main, withToken, withheld, unreachable].map((s) => s?.gatekeeper.close()));
  });

  it('generates TypeScript types, names every schema and gives every operation an operationId', async () => {
    const types = astToString(await openapiTS(main.document as never));
    expect(types).toContain('export interface paths');
    expect(types).toContain('"/auth/users/{username}"');
    expect(types).toMatch(/UserPublic: \{/);
    const names = Object.keys(main.document.components?.schemas ?? {});
    expect(names).toEqual(expect.arrayContaining(['ErrorBody', 'UserPublic', 'TokenResponse', 'AuditEvent']));
    expect(names.filter((n) => /^def-\d+$/.test(n))).toEqual([]);
    expect(JSON.stringify(main.document)).not.toMatch(/def-\d+/);
    const ids = new ContractChecker(main.document).entries.map((e) => e.operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents optional query parameters and the optional logout body as the server treats them', () => {
    const list = main.document.paths['/auth/users']!.get!;
    for (const name of ['skip', 'limit', 'q', 'role', 'is_active']) {
      expect(list.parameters?.find((p) => p.name === name)?.required, name).toBe(false);
    }
    const audit = main.document.paths['/auth/audit']!.get!;
    expect(audit.parameters?.find((p) => p.name === 'limit')?.required).toBe(false);
    expect(main.document.paths['/auth/logout']!.post!.requestBody?.required).toBe(false);
    expect(main.document.paths['/auth/register']!.post!.requestBody?.required).toBe(true);
  });

  it('register', async () => {
    const { api } = main;
    const created = await api.POST('/auth/register', {
      body: { username: 'contract_alice', password: STRONG_PASSWORD },
    });
    expect(created.response.status).toBe(201);
    expect(
      (await api.POST('/auth/register', { body: { username: 'contract_alice', password: STRONG_PASSWORD } })).response
        .status,
    ).toBe(409);
    expect(
      (await api.POST('/auth/register', { body: { username: 'a b', password: STRONG_PASSWORD } })).response.status,
    ).toBe(422);
    expect(
      (await api.POST('/auth/register', { body: { username: 'wannabe', password: STRONG_PASSWORD, role: 'admin' } }))
        .response.status,
    ).toBe(403);
    expect(
      (
        await api.POST('/auth/register', {
          body: { username: 'bad_bearer', password: STRONG_PASSWORD },
          ...auth('nope'),
        })
      ).response.status,
    ).toBe(401);
    expect((await api.POST('/auth/register', raw('{"username":'))).response.status).toBe(400);
    expect((await api.POST('/auth/register', huge())).response.status).toBe(413);
    expect((await api.POST('/auth/register', raw('username=x', 'text/plain'))).response.status).toBe(415);
    expect(
      (await api.POST('/auth/register', raw('username=x', 'application/x-www-form-urlencoded'))).response.status,
    ).toBe(415);
  });

  it('login, refresh and logout', async () => {
    const { api } = main;
    const ok = await api.POST('/auth/login', { body: { username: 'regular_user', password: STRONG_PASSWORD } });
    expect(ok.response.status).toBe(200);
    const form = await api.POST(
      '/auth/login',
      raw(
        `username=regular_user&password=${encodeURIComponent(STRONG_PASSWORD)}&grant_type=password`,
        'application/x-www-form-urlencoded',
      ),
    );
    expect(form.response.status).toBe(200);
    expect(
      (await api.POST('/auth/login', { body: { username: 'regular_user', password: 'Wrong-Passw0rd!' } })).response
        .status,
    ).toBe(401);
    expect((await api.POST('/auth/login', { body: { username: 'regular_user' } })).response.status).toBe(422);
    expect((await api.POST('/auth/login', raw('{'))).response.status).toBe(400);
    expect((await api.POST('/auth/login', huge())).response.status).toBe(413);
    expect((await api.POST('/auth/login', raw('x', 'text/plain'))).response.status).toBe(415);

    // Past the account's failure threshold (5 by default): 429 with Retry-After.
    await register(main.gatekeeper.app, 'contract_locked');
    let status = 0;
    for (let attempt = 0; attempt < 10 && status !== 429; attempt += 1) {
      status = (await api.POST('/auth/login', { body: { username: 'contract_locked', password: 'Wrong-Passw0rd!' } }))
        .response.status;
    }
    expect(status).toBe(429);

    const tokens = ok.data as Tokens;
    const refreshed = await api.POST('/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(refreshed.response.status).toBe(200);
    expect((await api.POST('/auth/refresh', { body: { refresh_token: 'not-a-token' } })).response.status).toBe(401);
    expect((await api.POST('/auth/refresh', { body: {} })).response.status).toBe(422);
    expect((await api.POST('/auth/refresh', raw('{'))).response.status).toBe(400);

    const pair = refreshed.data as Tokens;
    expect(
      (
        await api.POST('/auth/logout', {
          body: { refresh_token: pair.refresh_token, extra: 1 },
          ...auth(pair.access_token),
        })
      ).response.status,
    ).toBe(422);
    expect((await api.POST('/auth/logout', { body: { refresh_token: pair.refresh_token } })).response.status).toBe(401);
    expect(
      (
        await api.POST('/auth/logout', {
          ...raw('x', 'text/plain'),
          headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${pair.access_token}` },
        })
      ).response.status,
    ).toBe(415);
    // No body and no content type at all: accepted, as the document says (requestBody not required).
    const bare = await api.POST('/auth/logout', auth(pair.access_token));
    expect(bare.response.status).toBe(200);
    expect(lastRequest?.headers.get('content-type')).toBeNull();
    expect(lastRequest?.body).toBeNull();
    const other = (await api.POST('/auth/login', { body: { username: 'regular_user', password: STRONG_PASSWORD } }))
      .data as Tokens;
    expect(
      (await api.POST('/auth/logout', { body: { refresh_token: other.refresh_token }, ...auth(other.access_token) }))
        .response.status,
    ).toBe(200);
  });

  it('sessions: list, end one, and the admin view', async () => {
    const { api } = main;
    const mine = (
      await api.POST('/auth/login', {
        body: { username: 'regular_user', password: STRONG_PASSWORD },
        headers: { 'User-Agent': 'contract-test/1' },
      })
    ).data as Tokens;
    const listed = await api.GET('/auth/sessions', auth(mine.access_token));
    expect(listed.response.status).toBe(200);
    const sessions = listed.data as Array<{ id: string; current: boolean; user_agent: string | null }>;
    const current = sessions.find((s) => s.current);
    expect(current?.user_agent).toBe('contract-test/1');
    expect((await api.GET('/auth/sessions', {})).response.status).toBe(401);

    const path = (id: string) => ({ params: { path: { id } }, ...auth(mine.access_token) });
    expect((await api.DELETE('/auth/sessions/{id}', path('not-a-session'))).response.status).toBe(404);
    expect((await api.DELETE('/auth/sessions/{id}', path('bad\u0000id'))).response.status).toBe(422);
    // Another user's session is not found either.
    const adminSid = JSON.parse(Buffer.from(admin.access_token.split('.')[1]!, 'base64url').toString()).sid as string;
    expect((await api.DELETE('/auth/sessions/{id}', path(adminSid))).response.status).toBe(404);
    expect((await api.DELETE('/auth/sessions/{id}', { params: { path: { id: adminSid } } })).response.status).toBe(401);
    expect((await api.DELETE('/auth/sessions/{id}', path(current!.id))).response.status).toBe(200);
    expect((await api.GET('/auth/sessions', auth(mine.access_token))).response.status).toBe(401);

    const user = (username: string, token = admin.access_token) => ({ params: { path: { username } }, ...auth(token) });
    expect((await api.GET('/auth/users/{username}/sessions', user('regular_user'))).response.status).toBe(200);
    expect((await api.GET('/auth/users/{username}/sessions', user('no_such_user'))).response.status).toBe(404);
    expect(
      (await api.GET('/auth/users/{username}/sessions', user('regular_user', regular.access_token))).response.status,
    ).toBe(403);
    expect((await api.GET('/auth/users/{username}/sessions', user('x'.repeat(300)))).response.status).toBe(422);
  });

  it("the pages' cookie session and sign out everywhere", async () => {
    const { api } = main;
    await register(main.gatekeeper.app, 'cookie_user');
    const csrf = { 'X-Gatekeeper-CSRF': '1' };
    const credentials = { username: 'cookie_user', password: STRONG_PASSWORD };
    expect((await api.POST('/auth/session', { body: credentials })).response.status).toBe(403);
    expect(
      (await api.POST('/auth/session', { body: { ...credentials, password: 'wrong-pass-1' }, headers: csrf })).response
        .status,
    ).toBe(401);
    expect((await api.POST('/auth/session', { body: { username: '' } as never, headers: csrf })).response.status).toBe(
      422,
    );
    const signed = await api.POST('/auth/session', { body: credentials, headers: csrf });
    expect(signed.response.status).toBe(200);
    const cookie = signed.response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const withCookie = { headers: { ...csrf, Cookie: cookie } };
    expect((await api.POST('/auth/session/refresh', { headers: csrf })).response.status).toBe(401);
    const refreshed = await api.POST('/auth/session/refresh', withCookie);
    expect(refreshed.response.status).toBe(200);
    const fresh = {
      headers: {
        ...csrf,
        Cookie: refreshed.response.headers
          .getSetCookie()
          .map((line) => line.split(';')[0])
          .join('; '),
      },
    };
    const change = (current: string) =>
      api.POST('/auth/session/password', {
        body: { current_password: current, new_password: 'An0ther-Secret!' },
        ...fresh,
      });
    expect((await change('wrong-pass-1')).response.status).toBe(400);
    const changed = await change(STRONG_PASSWORD);
    expect(changed.response.status).toBe(200);
    expect(
      (await api.POST('/auth/session/mfa', { body: { mfa_token: 'no-such-challenge', code: '123456' }, headers: csrf }))
        .response.status,
    ).toBe(401);
    expect((await api.DELETE('/auth/session', { headers: csrf })).response.status).toBe(200);
    expect((await api.DELETE('/auth/session', {})).response.status).toBe(403);

    const mine = await login(main.gatekeeper.app, 'cookie_user', 'An0ther-Secret!');
    expect((await api.DELETE('/auth/sessions', {})).response.status).toBe(401);
    expect((await api.DELETE('/auth/sessions', auth(mine.access_token))).response.status).toBe(200);
    expect((await api.GET('/auth/me', auth(mine.access_token))).response.status).toBe(401);
  });

  it('me, update me and change password', async () => {
    const { api } = main;
    await register(main.gatekeeper.app, 'contract_bob');
    const bob = await login(main.gatekeeper.app, 'contract_bob');
    expect((await api.GET('/auth/me', auth(bob.access_token))).response.status).toBe(200);
    expect((await api.GET('/auth/me', {})).response.status).toBe(401);
    expect((await api.GET('/auth/me', auth('not.a.jwt'))).response.status).toBe(401);

    expect(
      (await api.PUT('/auth/me', { body: { metadata: { team: 'blue' } }, ...auth(bob.access_token) })).response.status,
    ).toBe(200);
    expect((await api.PUT('/auth/me', { body: { role: 'admin' }, ...auth(bob.access_token) })).response.status).toBe(
      403,
    );
    expect(
      (await api.PUT('/auth/me', { body: { username: 'regular_user' }, ...auth(bob.access_token) })).response.status,
    ).toBe(409);
    expect((await api.PUT('/auth/me', { body: { username: 'x' }, ...auth(bob.access_token) })).response.status).toBe(
      422,
    );
    expect((await api.PUT('/auth/me', { body: {} })).response.status).toBe(401);
    expect((await api.PUT('/auth/me', raw('{'))).response.status).toBe(400);
    expect((await api.PUT('/auth/me', huge())).response.status).toBe(413);
    expect((await api.PUT('/auth/me', raw('x', 'text/plain'))).response.status).toBe(415);

    const change = (current: string, next: string, token = bob.access_token) =>
      api.POST('/auth/change-password', { body: { current_password: current, new_password: next }, ...auth(token) });
    expect((await change('Wrong-Passw0rd!', 'An0ther-Secret!')).response.status).toBe(400);
    expect((await change(STRONG_PASSWORD, 'weak')).response.status).toBe(422);
    expect((await change(STRONG_PASSWORD, 'An0ther-Secret!', 'nope')).response.status).toBe(401);
    expect((await change(STRONG_PASSWORD, 'An0ther-Secret!')).response.status).toBe(200);
    expect((await api.POST('/auth/change-password', raw('{'))).response.status).toBe(400);
  });

  it('password reset: forgot and reset', async () => {
    const { api, gatekeeper } = main;
    await register(gatekeeper.app, 'contract_reset', { email: 'contract_reset@example.com' });
    expect(
      (await api.POST('/auth/password/forgot', { body: { email: 'contract_reset@example.com' } })).response.status,
    ).toBe(202);
    expect((await api.POST('/auth/password/forgot', { body: { username: 'nobody_here' } })).response.status).toBe(202);
    expect((await api.POST('/auth/password/forgot', { body: {} })).response.status).toBe(422);
    expect((await api.POST('/auth/password/forgot', raw('{'))).response.status).toBe(400);
    // A token put in the store directly: the mail's delivery is test/http/password-reset.test.ts's business.
    const user = (await gatekeeper.store.getUserByUsername('contract_reset'))!;
    const token = 'contract-reset-token-0123456789abcdefghijk';
    const now = new Date();
    await gatekeeper.store.issueOneTimeToken(
      {
        userId: user.id,
        purpose: 'password_reset',
        tokenHash: createHash('sha256').update(token).digest('hex'),
        createdAt: now,
        expiresAt: new Date(now.getTime() + 600_000),
      },
      { since: new Date(now.getTime() - 3_600_000), max: 10 },
    );
    const resetWith = (body: { token: string; new_password: string }) => api.POST('/auth/password/reset', { body });
    expect((await resetWith({ token, new_password: 'weak' })).response.status).toBe(422);
    expect((await resetWith({ token: 'no-such-token', new_password: 'An0ther-Secret!' })).response.status).toBe(400);
    expect((await resetWith({ token, new_password: 'An0ther-Secret!' })).response.status).toBe(200);
    expect((await resetWith({ token, new_password: 'An0ther-Secret!' })).response.status).toBe(400);
  });

  it('email verification: request and verify', async () => {
    const { api, gatekeeper } = main;
    await register(gatekeeper.app, 'contract_verify', { email: 'contract_verify@example.com' });
    const noEmail = await register(gatekeeper.app, 'contract_verify_none');
    const tokens = await login(gatekeeper.app, 'contract_verify');
    const asUser = auth(tokens.access_token);
    expect((await api.POST('/auth/email/verification', asUser)).response.status).toBe(202);
    expect((await api.POST('/auth/email/verification', {})).response.status).toBe(401);
    const none = await login(gatekeeper.app, String(noEmail.username));
    expect((await api.POST('/auth/email/verification', auth(none.access_token))).response.status).toBe(422);
    // A token put in the store directly: the mail's delivery is test/http/email-verification.test.ts's business.
    const user = (await gatekeeper.store.getUserByUsername('contract_verify'))!;
    const token = 'contract-verify-token-0123456789abcdefghij';
    const now = new Date();
    await gatekeeper.store.issueOneTimeToken(
      {
        userId: user.id,
        purpose: 'email_verification',
        tokenHash: createHash('sha256').update(token).digest('hex'),
        email: 'contract_verify@example.com',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 600_000),
      },
      { since: new Date(now.getTime() - 3_600_000), max: 10 },
    );
    expect((await api.POST('/auth/email/verify', { body: {} })).response.status).toBe(422);
    expect((await api.POST('/auth/email/verify', raw('{'))).response.status).toBe(400);
    expect((await api.POST('/auth/email/verify', { body: { code: '123456' } })).response.status).toBe(401);
    expect((await api.POST('/auth/email/verify', { body: { code: '123456' }, ...asUser })).response.status).toBe(400);
    const verified = await api.POST('/auth/email/verify', { body: { token } });
    expect(verified.response.status).toBe(200);
    expect(verified.data).toMatchObject({ username: 'contract_verify', email_verified: true });
    expect((await api.POST('/auth/email/verification', asUser)).response.status).toBe(409);
  });

  it('multi-factor authentication: setup, confirm, the login second step, disable and the admin reset', async () => {
    const { api, gatekeeper } = main;
    await register(gatekeeper.app, 'contract_mfa');
    const { access_token } = await login(gatekeeper.app, 'contract_mfa');
    const signedIn = auth(access_token);
    const setup = (password: string, token = signedIn) =>
      api.POST('/auth/mfa/totp/setup', { body: { password }, ...token });
    const confirm = (code: string) => api.POST('/auth/mfa/totp/confirm', { body: { code }, ...signedIn });
    expect((await confirm('123456')).response.status).toBe(409);
    expect((await setup('Wrong-Passw0rd!')).response.status).toBe(400);
    expect((await setup(STRONG_PASSWORD, auth('nope'))).response.status).toBe(401);
    expect((await api.POST('/auth/mfa/totp/setup', { body: {}, ...signedIn })).response.status).toBe(422);
    expect((await api.POST('/auth/mfa/totp/setup', raw('{'))).response.status).toBe(400);
    const started = await setup(STRONG_PASSWORD);
    expect(started.response.status).toBe(200);
    const secret = (started.data as { secret: string }).secret;
    expect((await confirm('000000')).response.status).toBe(400);
    expect((await api.POST('/auth/mfa/totp/confirm', { body: { code: '' }, ...signedIn })).response.status).toBe(422);
    expect((await confirm(await generate({ secret }))).response.status).toBe(200);
    expect((await setup(STRONG_PASSWORD)).response.status).toBe(409);

    // The login answers a challenge; the second step takes a recovery code (the TOTP step above is spent).
    const first = await api.POST('/auth/login', { body: { username: 'contract_mfa', password: STRONG_PASSWORD } });
    expect(first.response.status).toBe(200);
    const mfaToken = (first.data as { mfa_token: string }).mfa_token;
    const second = (code: string, token = mfaToken) =>
      api.POST('/auth/login/mfa', { body: { mfa_token: token, code } });
    expect((await second('000000')).response.status).toBe(401);
    expect((await second('123456', 'no-such-token')).response.status).toBe(401);
    expect((await api.POST('/auth/login/mfa', { body: { code: '123456' } })).response.status).toBe(422);
    expect((await api.POST('/auth/login/mfa', raw('{'))).response.status).toBe(400);
    // The password steps and the wrong codes draw on one budget (5): the sixth attempt is refused.
    const next = await api.POST('/auth/login', { body: { username: 'contract_mfa', password: STRONG_PASSWORD } });
    const nextToken = (next.data as { mfa_token: string }).mfa_token;
    expect((await second('000000', nextToken)).response.status).toBe(401);
    const last = await api.POST('/auth/login', { body: { username: 'contract_mfa', password: STRONG_PASSWORD } });
    expect((await second('000000', (last.data as { mfa_token: string }).mfa_token)).response.status).toBe(429);
    await gatekeeper.service.unlockUser('contract_mfa');

    const disable = (password: string, code: string) =>
      api.DELETE('/auth/mfa/totp', { body: { password, code }, ...signedIn });
    expect((await disable(STRONG_PASSWORD, 'zzzz-zzzz-zzzz')).response.status).toBe(400);
    expect(
      (await api.DELETE('/auth/mfa/totp', { body: { password: STRONG_PASSWORD }, ...signedIn })).response.status,
    ).toBe(422);
    await gatekeeper.service.unlockUser('contract_mfa');
    const user = { params: { path: { username: 'contract_mfa' } } };
    expect(
      (await api.DELETE('/auth/users/{username}/mfa', { ...user, ...auth(regular.access_token) })).response.status,
    ).toBe(403);
    expect((await api.DELETE('/auth/users/{username}/mfa', user)).response.status).toBe(401);
    expect(
      (
        await api.DELETE('/auth/users/{username}/mfa', {
          params: { path: { username: 'nobody_here' } },
          ...auth(admin.access_token),
        })
      ).response.status,
    ).toBe(404);
    expect(
      (await api.DELETE('/auth/users/{username}/mfa', { ...user, ...auth(admin.access_token) })).response.status,
    ).toBe(200);
    expect((await disable(STRONG_PASSWORD, '123456')).response.status).toBe(409);
    // Enabled again, then turned off by its owner: 200.
    const again = await setup(STRONG_PASSWORD);
    const secret2 = (again.data as { secret: string }).secret;
    const recovery = (await confirm(await generate({ secret: secret2 }))).data as { recovery_codes: string[] };
    expect((await disable(STRONG_PASSWORD, recovery.recovery_codes[0]!)).response.status).toBe(200);
    // A successful second step.
    const third = await setup(STRONG_PASSWORD);
    const secret3 = (third.data as { secret: string }).secret;
    const codes3 = (await confirm(await generate({ secret: secret3 }))).data as { recovery_codes: string[] };
    const challenge = await api.POST('/auth/login', { body: { username: 'contract_mfa', password: STRONG_PASSWORD } });
    const ok = await second(codes3.recovery_codes[1]!, (challenge.data as { mfa_token: string }).mfa_token);
    expect(ok.response.status).toBe(200);
  });

  it('user management', async () => {
    const { api } = main;
    const asAdmin = auth(admin.access_token);
    const list = await api.GET('/auth/users', asAdmin);
    expect(list.response.status).toBe(200);
    expect(Number(list.response.headers.get('x-total-count'))).toBeGreaterThanOrEqual(2);
    expect(
      (await api.GET('/auth/users', { params: { query: { skip: 1, limit: 1, role: 'regular' } }, ...asAdmin })).response
        .status,
    ).toBe(200);
    expect((await api.GET('/auth/users', { params: { query: { limit: 0 } }, ...asAdmin })).response.status).toBe(422);
    expect((await api.GET('/auth/users', {})).response.status).toBe(401);
    expect((await api.GET('/auth/users', auth(regular.access_token))).response.status).toBe(403);

    const create = (body: object, init = asAdmin) => api.POST('/auth/users', { body, ...init });
    expect(
      (await create({ username: 'contract_carol', password: STRONG_PASSWORD, role: 'guest' })).response.status,
    ).toBe(201);
    expect((await create({ username: 'contract_carol', password: STRONG_PASSWORD })).response.status).toBe(409);
    expect((await create({ username: 'contract_dave' })).response.status).toBe(422);
    expect(
      (await create({ username: 'contract_dave', password: STRONG_PASSWORD }, auth(regular.access_token))).response
        .status,
    ).toBe(403);
    expect(
      (
        await api.POST('/auth/users', {
          ...raw('{'),
          headers: { 'Content-Type': 'application/json', ...asAdmin.headers },
        })
      ).response.status,
    ).toBe(400);
    expect((await api.POST('/auth/users', huge())).response.status).toBe(413);
    expect((await api.POST('/auth/users', raw('x', 'text/plain'))).response.status).toBe(415);

    const user = (username: string) => ({ params: { path: { username } }, ...asAdmin });
    expect((await api.GET('/auth/users/{username}', user('contract_carol'))).response.status).toBe(200);
    expect((await api.GET('/auth/users/{username}', user('nobody_here'))).response.status).toBe(404);
    expect((await api.GET('/auth/users/{username}', user('x'.repeat(256)))).response.status).toBe(422);
    expect(
      (await api.GET('/auth/users/{username}', { params: { path: { username: 'contract_carol' } } })).response.status,
    ).toBe(401);

    expect(
      (await api.PUT('/auth/users/{username}', { ...user('contract_carol'), body: { role: 'regular' } })).response
        .status,
    ).toBe(200);
    expect(
      (await api.PUT('/auth/users/{username}', { ...user('nobody_here'), body: { role: 'regular' } })).response.status,
    ).toBe(404);
    expect(
      (await api.PUT('/auth/users/{username}', { ...user('root_admin'), body: { role: 'regular' } })).response.status,
    ).toBe(409);
    expect(
      (await api.PUT('/auth/users/{username}', { ...user('contract_carol'), body: { role: 'emperor' } })).response
        .status,
    ).toBe(422);
    expect(
      (
        await api.PUT('/auth/users/{username}', {
          params: { path: { username: 'contract_carol' } },
          ...raw('x', 'text/plain'),
        })
      ).response.status,
    ).toBe(415);

    expect(
      (await api.POST('/auth/users/{username}/yapcoins', { ...user('contract_carol'), body: { delta: 5 } })).response
        .status,
    ).toBe(200);
    expect(
      (await api.POST('/auth/users/{username}/yapcoins', { ...user('contract_carol'), body: { delta: -50 } })).response
        .status,
    ).toBe(409);
    expect(
      (await api.POST('/auth/users/{username}/yapcoins', { ...user('contract_carol'), body: { delta: 'many' } }))
        .response.status,
    ).toBe(422);
    expect(
      (await api.POST('/auth/users/{username}/yapcoins', { ...user('nobody_here'), body: { delta: 1 } })).response
        .status,
    ).toBe(404);

    expect((await api.POST('/auth/users/{username}/revoke-tokens', user('contract_carol'))).response.status).toBe(200);
    expect((await api.POST('/auth/users/{username}/revoke-tokens', user('nobody_here'))).response.status).toBe(404);
    expect((await api.POST('/auth/users/{username}/unlock', user('contract_locked'))).response.status).toBe(200);
    expect((await api.POST('/auth/users/{username}/unlock', user('nobody_here'))).response.status).toBe(404);
    expect(
      (await api.POST('/auth/users/{username}/unlock', { params: { path: { username: 'x' } }, ...raw('{') })).response
        .status,
    ).toBe(400);

    expect((await api.DELETE('/auth/users/{username}', user('root_admin'))).response.status).toBe(409);
    expect((await api.DELETE('/auth/users/{username}', user('contract_carol'))).response.status).toBe(200);
    expect((await api.DELETE('/auth/users/{username}', user('contract_carol'))).response.status).toBe(404);
    expect(
      (await api.DELETE('/auth/users/{username}', { params: { path: { username: 'x' } }, ...raw('{') })).response
        .status,
    ).toBe(400);

    expect((await api.GET('/auth/stats', asAdmin)).response.status).toBe(200);
    expect((await api.GET('/auth/stats', auth(regular.access_token))).response.status).toBe(403);
    expect((await api.POST('/auth/cleanup', asAdmin)).response.status).toBe(200);
    expect((await api.POST('/auth/cleanup', {})).response.status).toBe(401);
    expect((await api.POST('/auth/cleanup', raw('x', 'text/plain'))).response.status).toBe(415);

    expect((await api.GET('/auth/audit', asAdmin)).response.status).toBe(200);
    expect(
      (await api.GET('/auth/audit', { params: { query: { user: 'contract_carol', limit: 5 } }, ...asAdmin })).response
        .status,
    ).toBe(200);
    expect(
      (await api.GET('/auth/audit', { params: { query: { event: 'no.such.event' } }, ...asAdmin })).response.status,
    ).toBe(422);
    expect((await api.GET('/auth/audit', auth(regular.access_token))).response.status).toBe(403);
  });

  it('OAuth clients and token introspection', async () => {
    const { api } = main;
    const asAdmin = auth(admin.access_token);
    const created = await api.POST('/auth/clients', { body: { name: 'Contract service' }, ...asAdmin });
    expect(created.response.status).toBe(201);
    const client = created.data as { client_id: string; client_secret: string };
    expect((await api.POST('/auth/clients', { body: { name: '' }, ...asAdmin })).response.status).toBe(422);
    expect((await api.POST('/auth/clients', { body: { name: 'x' } })).response.status).toBe(401);
    expect(
      (await api.POST('/auth/clients', { body: { name: 'x' }, ...auth(regular.access_token) })).response.status,
    ).toBe(403);
    expect(
      (
        await api.POST('/auth/clients', {
          ...raw('{'),
          headers: { 'Content-Type': 'application/json', ...asAdmin.headers },
        })
      ).response.status,
    ).toBe(400);
    expect((await api.POST('/auth/clients', raw('x', 'text/plain'))).response.status).toBe(415);
    expect((await api.POST('/auth/clients', huge())).response.status).toBe(413);

    expect((await api.GET('/auth/clients', asAdmin)).response.status).toBe(200);
    expect((await api.GET('/auth/clients', {})).response.status).toBe(401);
    const one = (client_id: string) => ({ params: { path: { client_id } }, ...asAdmin });
    expect((await api.GET('/auth/clients/{client_id}', one(client.client_id))).response.status).toBe(200);
    expect((await api.GET('/auth/clients/{client_id}', one('gk_nobody'))).response.status).toBe(404);
    expect((await api.GET('/auth/clients/{client_id}', one('x'.repeat(300)))).response.status).toBe(422);
    const rotated = await api.POST('/auth/clients/{client_id}/rotate-secret', one(client.client_id));
    expect(rotated.response.status).toBe(200);
    const secret = (rotated.data as { client_secret: string }).client_secret;
    expect((await api.POST('/auth/clients/{client_id}/rotate-secret', one('gk_nobody'))).response.status).toBe(404);

    const basic = (id: string, password: string) =>
      `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(password)}`).toString('base64')}`;
    const introspect = (body: string, authorization?: string, type = 'application/x-www-form-urlencoded') =>
      api.POST('/auth/introspect', {
        ...raw(body, type),
        headers: { 'Content-Type': type, ...(authorization ? { Authorization: authorization } : {}) },
      });
    const active = await introspect(`token=${regular.access_token}`, basic(client.client_id, secret));
    expect(active.response.status).toBe(200);
    expect(active.data).toMatchObject({ active: true, username: 'regular_user' });
    const refresh = await introspect(`token=${regular.refresh_token}`, basic(client.client_id, secret));
    expect(refresh.data).toMatchObject({ active: true, token_type: 'refresh_token' });
    expect((await introspect('token=garbage', basic(client.client_id, secret))).data).toEqual({ active: false });
    const json = await introspect(
      JSON.stringify({ token: 'garbage', client_id: client.client_id, client_secret: secret }),
      undefined,
      'application/json',
    );
    expect(json.response.status).toBe(200);
    expect((await introspect('', basic(client.client_id, secret))).response.status).toBe(400);
    expect((await introspect('token=x', basic(client.client_id, client.client_secret))).response.status).toBe(401);
    expect((await introspect('{', undefined, 'application/json')).response.status).toBe(400);
    expect((await introspect('x', undefined, 'text/plain')).response.status).toBe(415);
    expect((await introspect(`token=${'x'.repeat(70 * 1024)}`, basic(client.client_id, secret))).response.status).toBe(
      413,
    );

    expect((await api.DELETE('/auth/clients/{client_id}', one(client.client_id))).response.status).toBe(200);
    expect((await api.DELETE('/auth/clients/{client_id}', one(client.client_id))).response.status).toBe(404);
  });

  it('operations: health, liveness, metrics and keys', async () => {
    expect((await main.api.GET('/health', {})).response.status).toBe(200);
    expect((await withheld.api.GET('/health', {})).response.status).toBe(200);
    expect((await main.api.GET('/health/live', {})).response.status).toBe(200);

    const metrics = await main.api.GET('/metrics', { parseAs: 'text' });
    expect(metrics.response.status).toBe(200);
    expect(metrics.data).toContain('gatekeeper_http_requests_total');
    expect((await withToken.api.GET('/metrics', {})).response.status).toBe(401);
    expect((await withToken.api.GET('/metrics', auth('wrong-token-0123456789'))).response.status).toBe(401);
    expect(
      (await withToken.api.GET('/metrics', { parseAs: 'text', ...auth('metrics-token-0123456789') })).response.status,
    ).toBe(200);
    expect((await withheld.api.GET('/metrics', {})).response.status).toBe(403);

    const jwks = await main.api.GET('/.well-known/jwks.json', {});
    expect(jwks.response.status).toBe(200);
    expect((jwks.data as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    expect((await withheld.api.GET('/.well-known/jwks.json', {})).response.status).toBe(404);
  });

  it('503 OVERLOADED with Retry-After wherever a password is hashed while the hash queue is full', async () => {
    const { api, gatekeeper } = withheld;
    const root = await adminTokens(gatekeeper);
    await register(gatekeeper.app, 'busy_user');
    const user = await login(gatekeeper.app, 'busy_user');
    let release!: () => void;
    const busy = gatekeeper.hasher.queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const statuses = [
        await api.POST('/auth/login', { body: { username: 'busy_user', password: STRONG_PASSWORD } }),
        await api.POST('/auth/register', { body: { username: 'busy_user_2', password: STRONG_PASSWORD } }),
        await api.POST('/auth/change-password', {
          body: { current_password: STRONG_PASSWORD, new_password: 'An0ther-Secret!' },
          ...auth(user.access_token),
        }),
        await api.PUT('/auth/me', {
          body: { email: 'busy@example.com', current_password: STRONG_PASSWORD },
          ...auth(user.access_token),
        }),
        await api.POST('/auth/users', {
          body: { username: 'busy_user_3', password: STRONG_PASSWORD },
          ...auth(root.access_token),
        }),
      ].map((r) => r.response.status);
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
    } finally {
      release();
      await busy;
    }
  });

  it('503 DATABASE_UNAVAILABLE with Retry-After from every route that reads the store while it is unreachable', async () => {
    const { api, gatekeeper } = unreachable;
    const root = await adminTokens(gatekeeper);
    const asRoot = auth(root.access_token);
    const user = { params: { path: { username: 'root_admin' } }, ...asRoot };
    down = true;
    try {
      const answers = {
        register: await api.POST('/auth/register', { body: { username: 'nobody_new', password: STRONG_PASSWORD } }),
        login: await api.POST('/auth/login', { body: { username: 'root_admin', password: STRONG_PASSWORD } }),
        refreshTokens: await api.POST('/auth/refresh', { body: { refresh_token: root.refresh_token } }),
        logout: await api.POST('/auth/logout', asRoot),
        getMe: await api.GET('/auth/me', asRoot),
        updateMe: await api.PUT('/auth/me', { body: { metadata: {} }, ...asRoot }),
        changePassword: await api.POST('/auth/change-password', {
          body: { current_password: STRONG_PASSWORD, new_password: 'An0ther-Secret!' },
          ...asRoot,
        }),
        forgotPassword: await api.POST('/auth/password/forgot', { body: { username: 'root_admin' } }),
        resetPassword: await api.POST('/auth/password/reset', {
          body: { token: 'some-token', new_password: 'An0ther-Secret!' },
        }),
        requestEmailVerification: await api.POST('/auth/email/verification', asRoot),
        verifyEmail: await api.POST('/auth/email/verify', { body: { token: 'some-token' } }),
        listUsers: await api.GET('/auth/users', asRoot),
        createUser: await api.POST('/auth/users', {
          body: { username: 'nobody_new', password: STRONG_PASSWORD },
          ...asRoot,
        }),
        getUser: await api.GET('/auth/users/{username}', user),
        updateUser: await api.PUT('/auth/users/{username}', { ...user, body: { metadata: {} } }),
        deleteUser: await api.DELETE('/auth/users/{username}', user),
        revokeUserTokens: await api.POST('/auth/users/{username}/revoke-tokens', user),
        unlockUser: await api.POST('/auth/users/{username}/unlock', user),
        listSessions: await api.GET('/auth/sessions', asRoot),
        revokeSession: await api.DELETE('/auth/sessions/{id}', {
          params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
          ...asRoot,
        }),
        listUserSessions: await api.GET('/auth/users/{username}/sessions', user),
        resetUserMfa: await api.DELETE('/auth/users/{username}/mfa', user),
        setupTotp: await api.POST('/auth/mfa/totp/setup', { body: { password: STRONG_PASSWORD }, ...asRoot }),
        confirmTotp: await api.POST('/auth/mfa/totp/confirm', { body: { code: '123456' }, ...asRoot }),
        disableTotp: await api.DELETE('/auth/mfa/totp', {
          body: { password: STRONG_PASSWORD, code: '123456' },
          ...asRoot,
        }),
        loginMfa: await api.POST('/auth/login/mfa', { body: { mfa_token: 'some-token', code: '123456' } }),
        addYapcoins: await api.POST('/auth/users/{username}/yapcoins', { ...user, body: { delta: 1 } }),
        getStats: await api.GET('/auth/stats', asRoot),
        cleanup: await api.POST('/auth/cleanup', asRoot),
        listAuditEvents: await api.GET('/auth/audit', asRoot),
        getHealth: await api.GET('/health', {}),
        getLiveness: await api.GET('/health/live', {}),
      };
      const statuses = Object.fromEntries(Object.entries(answers).map(([id, r]) => [id, r.response.status]));
      expect(statuses).toEqual(Object.fromEntries(Object.keys(answers).map((id) => [id, 503])));
      expect(answers.getHealth.error).toMatchObject({ status: 'unavailable', database: { reachable: false } });
    } finally {
      down = false;
    }
    expect((await api.GET('/health', {})).response.status).toBe(200);
  });

  it('every operation in the document was exercised, and no answer contradicted it', () => {
    const ids = new ContractChecker(main.document).entries.map((e) => e.operation.operationId ?? '');
    expect(ids.filter((id) => !exercised.has(id))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
