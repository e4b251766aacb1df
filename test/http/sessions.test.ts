/**
 * Issue 14, points 1 and 2: sessions a user can see and end, the refresh grace window and the
 * absolute session lifetime, over HTTP on both stores (PostgreSQL: a real database), with the
 * injectable clock for every window and expiry (no sleeps).
 */
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
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
  type Tokens as LoginTokens,
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';

const DAY = 86_400;

/** The token response, with the refresh token's lifetime these tests check. */
type Tokens = LoginTokens & { refresh_expires_in?: number };

interface SessionBody {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

function sidOf(tokens: Tokens): string {
  return decodeJwt(tokens.access_token).sid as string;
}

async function sessionsOf(app: FastifyInstance, tokens: Tokens): Promise<SessionBody[]> {
  const res = await app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(tokens.access_token) });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as SessionBody[];
}

function refresh(app: FastifyInstance, refreshToken: string) {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: refreshToken } });
}

function loginFrom(app: FastifyInstance, username: string, ip: string, userAgent?: string) {
  return app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username, password: STRONG_PASSWORD },
    remoteAddress: ip,
    headers: userAgent === undefined ? {} : { 'user-agent': userAgent },
  });
}

describe.each(BACKENDS)('sessions (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let clock: TestClock;
  let n = 0;
  const fresh = (prefix: string) => `${prefix}_${++n}`;

  beforeAll(async () => {
    clock = testClock(new Date('2030-03-01T10:00:00.000Z'));
    gk = await startGatekeeper(backend, { GATEKEEPER_SESSION_MAX_DAYS: '30' }, { now: clock.now });
  });
  afterAll(async () => {
    await gk?.close();
  });

  describe('GET and DELETE /auth/sessions', () => {
    it('lists the caller’s live sessions with created, last used, expiry, address, user agent and current', async () => {
      const name = fresh('lister');
      await register(gk.app, name);
      const loginAt = clock.now().toISOString();
      const first = json(await loginFrom(gk.app, name, '198.51.100.4', 'Firefox/140.0')) as unknown as Tokens;
      clock.advance(5);
      const second = json(await loginFrom(gk.app, name, '2001:db8::7', 'curl/8.9')) as unknown as Tokens;
      const listed = await sessionsOf(gk.app, second);
      expect(listed).toEqual([
        {
          id: sidOf(first),
          created_at: loginAt,
          last_used_at: loginAt,
          expires_at: new Date(Date.parse(loginAt) + 7 * DAY * 1000).toISOString(),
          ip: '198.51.100.4',
          user_agent: 'Firefox/140.0',
          current: false,
        },
        expect.objectContaining({ id: sidOf(second), ip: '2001:db8::7', user_agent: 'curl/8.9', current: true }),
      ]);
      // Another user's sessions are not in the list.
      const other = fresh('other');
      await register(gk.app, other);
      expect((await sessionsOf(gk.app, await login(gk.app, other))).map((s) => s.id)).not.toContain(sidOf(first));
    });

    it('keeps at most 512 characters of the user agent, without control characters', async () => {
      const name = fresh('agent');
      await register(gk.app, name);
      const long = `Mozilla/5.0\t(X11) ${'é'.repeat(600)}`;
      const tokens = json(await loginFrom(gk.app, name, '192.0.2.10', long)) as unknown as Tokens;
      const [session] = await sessionsOf(gk.app, tokens);
      const kept = [...long.replace('\t', '')].slice(0, 512).join('');
      expect([...session!.user_agent!]).toHaveLength(512);
      expect(session!.user_agent).toBe(kept);
      // An empty header: null.
      const bare = json(await loginFrom(gk.app, name, '192.0.2.10', '')) as unknown as Tokens;
      expect((await sessionsOf(gk.app, bare)).find((s) => s.current)?.user_agent).toBeNull();
    });

    it('last_used_at moves with a refresh, not with a use of the access token', async () => {
      const name = fresh('used');
      await register(gk.app, name);
      const tokens = await login(gk.app, name);
      const created = (await sessionsOf(gk.app, tokens))[0]!.created_at;
      clock.advance(60);
      expect(
        (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode,
      ).toBe(200);
      expect((await sessionsOf(gk.app, tokens))[0]!.last_used_at).toBe(created);
      clock.advance(60);
      const refreshedAt = clock.now().toISOString();
      const rotated = json(await refresh(gk.app, tokens.refresh_token)) as unknown as Tokens;
      const [after] = await sessionsOf(gk.app, rotated);
      expect(after).toMatchObject({ created_at: created, last_used_at: refreshedAt });
    });

    it('DELETE ends one session: its tokens stop working, the others go on, and it is audited', async () => {
      const name = fresh('ender');
      await register(gk.app, name);
      const keep = await login(gk.app, name);
      const end = await login(gk.app, name);
      const res = await gk.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${sidOf(end)}`,
        headers: bearer(keep.access_token),
        remoteAddress: '203.0.113.9',
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(json(res)).toEqual({ message: 'Session ended.' });
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(end.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
      expectError(await refresh(gk.app, end.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
      expect((await sessionsOf(gk.app, keep)).map((s) => s.id)).toEqual([sidOf(keep)]);
      // Ended already: not found now.
      expectError(
        await gk.app.inject({
          method: 'DELETE',
          url: `/auth/sessions/${sidOf(end)}`,
          headers: bearer(keep.access_token),
        }),
        404,
        'SESSION_NOT_FOUND',
      );
      const admin = await adminTokens(gk);
      const audit = await gk.app.inject({
        method: 'GET',
        url: `/auth/audit?event=session.revoke&user=${name}`,
        headers: bearer(admin.access_token),
      });
      expect(audit.statusCode, audit.body).toBe(200);
      expect(JSON.parse(audit.body)).toEqual([
        expect.objectContaining({
          event: 'session.revoke',
          username: name,
          ip: '203.0.113.9',
          detail: { session_id: sidOf(end), current: false, by: null },
        }),
      ]);
    });

    it("another user's session, an unknown id and an id that is no UUID are all 404 SESSION_NOT_FOUND", async () => {
      const owner = fresh('owner');
      const stranger = fresh('stranger');
      await register(gk.app, owner);
      await register(gk.app, stranger);
      const victim = await login(gk.app, owner);
      const thief = await login(gk.app, stranger);
      for (const id of [sidOf(victim), '00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1'%20OR%20'1'='1"]) {
        const res = await gk.app.inject({
          method: 'DELETE',
          url: `/auth/sessions/${id}`,
          headers: bearer(thief.access_token),
        });
        expectError(res, 404, 'SESSION_NOT_FOUND');
      }
      // The owner's session survived the attempts.
      expect(
        (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(victim.access_token) })).statusCode,
      ).toBe(200);
      expectError(await gk.app.inject({ method: 'GET', url: '/auth/sessions' }), 401, 'NOT_AUTHENTICATED');
    });

    it('ending the current session signs the caller out', async () => {
      const name = fresh('self');
      await register(gk.app, name);
      const tokens = await login(gk.app, name);
      const res = await gk.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${sidOf(tokens)}`,
        headers: bearer(tokens.access_token),
      });
      expect(res.statusCode).toBe(200);
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(tokens.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
    });
  });

  describe('GET /auth/users/{username}/sessions (admin)', () => {
    it("gives the user's live sessions to an admin; 404 for an unknown user; 403 for others", async () => {
      const name = fresh('watched');
      await register(gk.app, name);
      const tokens = await login(gk.app, name);
      const admin = await adminTokens(gk);
      const res = await gk.app.inject({
        method: 'GET',
        url: `/auth/users/${name}/sessions`,
        headers: bearer(admin.access_token),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect((JSON.parse(res.body) as SessionBody[]).map((s) => [s.id, s.current])).toEqual([[sidOf(tokens), false]]);
      expectError(
        await gk.app.inject({
          method: 'GET',
          url: '/auth/users/nobody_at_all/sessions',
          headers: bearer(admin.access_token),
        }),
        404,
        'USER_NOT_FOUND',
      );
      expectError(
        await gk.app.inject({
          method: 'GET',
          url: `/auth/users/${name}/sessions`,
          headers: bearer(tokens.access_token),
        }),
        403,
        'FORBIDDEN',
      );
    });
  });

  describe('refresh grace window (GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS, default 10)', () => {
    it('a rotated token presented again within the window gets the current pair of the same session', async () => {
      const name = fresh('twotabs');
      await register(gk.app, name);
      const t0 = await login(gk.app, name);
      const a = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      clock.advance(9);
      const again = await refresh(gk.app, t0.refresh_token);
      expect(again.statusCode, again.body).toBe(200);
      const b = json(again) as unknown as Tokens;
      expect(b.refresh_token).toBe(a.refresh_token);
      expect(sidOf(b)).toBe(sidOf(t0));
      expect(b.refresh_expires_in).toBe(7 * DAY - 9);
      // The session lives on: both tabs' access tokens work, the current refresh token rotates.
      for (const t of [a, b]) {
        expect(
          (await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(t.access_token) })).statusCode,
        ).toBe(200);
      }
      expect(await sessionsOf(gk.app, b)).toHaveLength(1);
      expect((await refresh(gk.app, a.refresh_token)).statusCode).toBe(200);
    });

    it('follows the chain when the successor was itself rotated within the window', async () => {
      const name = fresh('chain');
      await register(gk.app, name);
      const t0 = await login(gk.app, name);
      const t1 = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      clock.advance(3);
      const t2 = json(await refresh(gk.app, t1.refresh_token)) as unknown as Tokens;
      clock.advance(3);
      const late = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      expect(late.refresh_token).toBe(t2.refresh_token);
      expect((json(await refresh(gk.app, t1.refresh_token)) as unknown as Tokens).refresh_token).toBe(t2.refresh_token);
    });

    it('after the window, reuse still ends the whole session, current tokens included', async () => {
      const name = fresh('thief');
      await register(gk.app, name);
      const t0 = await login(gk.app, name);
      const t1 = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      clock.advance(11);
      expectError(await refresh(gk.app, t0.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
      expectError(await refresh(gk.app, t1.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
      expectError(
        await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(t1.access_token) }),
        401,
        'TOKEN_REVOKED',
      );
    });

    it('a revoked session gets nothing within the window either', async () => {
      const name = fresh('revoked');
      await register(gk.app, name);
      const t0 = await login(gk.app, name);
      const t1 = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      await gk.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(t1.access_token) });
      expectError(await refresh(gk.app, t0.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    });

    it.each([2, 5, 20])(
      '%i concurrent refreshes of one token all succeed and leave exactly one live session',
      async (count) => {
        const name = fresh(`burst${count}`);
        await register(gk.app, name);
        const t0 = await login(gk.app, name);
        const answers = await Promise.all(Array.from({ length: count }, () => refresh(gk.app, t0.refresh_token)));
        expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: count }, () => 200));
        const pairs = answers.map((a) => json(a) as unknown as Tokens);
        // Every tab holds the one current token of the one session.
        expect(new Set(pairs.map((p) => p.refresh_token)).size).toBe(1);
        expect(new Set(pairs.map(sidOf))).toEqual(new Set([sidOf(t0)]));
        const admin = await adminTokens(gk);
        const listed = await gk.app.inject({
          method: 'GET',
          url: `/auth/users/${name}/sessions`,
          headers: bearer(admin.access_token),
        });
        expect(JSON.parse(listed.body)).toHaveLength(1);
        expect((await refresh(gk.app, pairs[0]!.refresh_token)).statusCode).toBe(200);
      },
    );
  });

  describe('absolute session lifetime (GATEKEEPER_SESSION_MAX_DAYS)', () => {
    it('ends a session 30 days after its login however often it is refreshed; refresh_expires_in never points past it', async () => {
      const name = fresh('forever');
      await register(gk.app, name);
      const loginAt = clock.now().getTime();
      let tokens = (await login(gk.app, name)) as Tokens;
      expect(tokens.refresh_expires_in).toBe(7 * DAY);
      for (let day = 6; day < 30; day += 6) {
        clock.set(new Date(loginAt + day * DAY * 1000));
        const res = await refresh(gk.app, tokens.refresh_token);
        expect(res.statusCode, `day ${day}`).toBe(200);
        tokens = json(res) as unknown as Tokens;
        expect(tokens.refresh_expires_in).toBe(Math.min(7, 30 - day) * DAY);
        const [session] = await sessionsOf(gk.app, tokens);
        expect(Date.parse(session!.expires_at)).toBeLessThanOrEqual(loginAt + 30 * DAY * 1000);
      }
      // Day 24's token says it lives 6 days: to day 30 exactly, and not one moment longer.
      clock.set(new Date(loginAt + 30 * DAY * 1000 - 1000));
      const last = await refresh(gk.app, tokens.refresh_token);
      expect(last.statusCode).toBe(200);
      tokens = json(last) as unknown as Tokens;
      expect(tokens.refresh_expires_in).toBe(1);
      clock.set(new Date(loginAt + 30 * DAY * 1000));
      expectError(await refresh(gk.app, tokens.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    });
  });
});

describe('settings of the windows', () => {
  it('GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS=0: a second presentation is reuse at once', async () => {
    const gk = await startGatekeeper('memory', { GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: '0' });
    try {
      await register(gk.app, 'strict_user');
      const t0 = await login(gk.app, 'strict_user');
      const t1 = json(await refresh(gk.app, t0.refresh_token)) as unknown as Tokens;
      expectError(await refresh(gk.app, t0.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
      expectError(await refresh(gk.app, t1.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    } finally {
      await gk.close();
    }
  });

  it('a session maximum below the refresh token lifetime bounds the very first pair', async () => {
    const clock = testClock();
    const gk = await startGatekeeper('memory', { GATEKEEPER_SESSION_MAX_DAYS: '2' }, { now: clock.now });
    try {
      await register(gk.app, 'short_user');
      const tokens = (await login(gk.app, 'short_user')) as Tokens;
      expect(tokens.refresh_expires_in).toBe(2 * DAY);
      clock.advance(2 * DAY);
      expectError(await refresh(gk.app, tokens.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    } finally {
      await gk.close();
    }
  });
});
