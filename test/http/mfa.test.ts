/**
 * Issue 14, points 3-6 (MFA): TOTP setup, confirm and disable, the login's second step, `amr`,
 * the shared throttle, replay protection, admin reset and the notices, over HTTP against memory
 * and real PostgreSQL, with the real SMTP test server. Codes are computed with otplib from the
 * returned secret at the injected clock's time: windows, drift and expiry move the clock, never sleep.
 */
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper } from '../../src/compose/build-gatekeeper.js';
import type { CachedStore } from '../../src/store/user-state-cache.js';
import {
  BACKENDS,
  CHEAP_HASH,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';
import {
  VERIFICATION_SUBJECT,
  mailsTo as mailsToAddress,
  startSmtpServer,
  type TestSmtpServer,
} from '../support/smtp.js';

/** The MFA notices to `address`; registration's verification mail is not one. */
const mailsTo = (smtp: TestSmtpServer, address: string, count: number) =>
  mailsToAddress(smtp, address, count, { except: VERIFICATION_SUBJECT });

// A fixed start in the middle of a 30-second step, so ±1 step is exactly one period either way.
const START = new Date('2026-12-01T10:00:15.000Z');

function codeAt(secret: string, clock: TestClock, offsetSeconds = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) + offsetSeconds });
}

function post(app: FastifyInstance, url: string, payload: object, token?: string) {
  return app.inject({ method: 'POST', url, payload, ...(token ? { headers: bearer(token) } : {}) });
}

function passwordStep(app: FastifyInstance, username: string, password = STRONG_PASSWORD) {
  return post(app, '/auth/login', { username, password });
}

async function challenge(app: FastifyInstance, username: string): Promise<string> {
  const res = await passwordStep(app, username);
  expect(res.statusCode, res.body).toBe(200);
  const body = json(res);
  expect(body).toEqual({
    mfa_required: true,
    mfa_token: expect.any(String),
    methods: ['totp', 'recovery_code'],
    expires_in: 300,
  });
  expect(body).not.toHaveProperty('access_token');
  return body.mfa_token as string;
}

function secondStep(app: FastifyInstance, mfaToken: string, code: string) {
  return post(app, '/auth/login/mfa', { mfa_token: mfaToken, code });
}

/** Registers `name` and turns TOTP on; gives the secret, the recovery codes and a (password-only) access token. */
async function enrolled(app: FastifyInstance, clock: TestClock, name: string, extra: Record<string, unknown> = {}) {
  await register(app, name, extra);
  const { access_token } = await login(app, name);
  const setup = await post(app, '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, access_token);
  expect(setup.statusCode, setup.body).toBe(200);
  const secret = json(setup).secret as string;
  const confirm = await post(app, '/auth/mfa/totp/confirm', { code: await codeAt(secret, clock) }, access_token);
  expect(confirm.statusCode, confirm.body).toBe(200);
  // The confirming code's step is spent: move on so the next code is a new one.
  clock.advance(30);
  return { secret, recoveryCodes: json(confirm).recovery_codes as string[], accessToken: access_token };
}

describe.each(BACKENDS)('multi-factor authentication (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let smtp: TestSmtpServer;
  let clock: TestClock;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    clock = testClock(START);
    gk = await startGatekeeper(
      backend,
      { GATEKEEPER_SMTP_URL: smtp.url(), GATEKEEPER_PUBLIC_URL: 'https://id.example.test' },
      { now: clock.now, mail: { retryDelaysMs: [10, 10] } },
    );
  });
  afterAll(async () => {
    await gk?.close();
    await smtp?.stop();
  });

  it('setup needs the password, gives secret, otpauth URL and SVG; confirm gives 10 recovery codes once and mails a notice', async () => {
    await register(gk.app, 'mfa_ada', { email: 'mfa_ada@example.test' });
    const { access_token } = await login(gk.app, 'mfa_ada');
    expectError(
      await post(gk.app, '/auth/mfa/totp/setup', { password: 'wrong-password-1' }, access_token),
      400,
      'INVALID_PASSWORD',
    );
    expectError(await post(gk.app, '/auth/mfa/totp/confirm', { code: '123456' }, access_token), 409, 'MFA_NOT_ENABLED');
    const setup = await post(gk.app, '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, access_token);
    expect(setup.statusCode, setup.body).toBe(200);
    expect(setup.headers['cache-control']).toBe('no-store');
    const { secret, otpauth_url, qr_svg } = json(setup) as Record<string, string>;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits of Base32
    const url = new URL(otpauth_url!);
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe('Gatekeeper');
    expect(qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    // Pending: a password alone still signs in, and /auth/me says MFA is off.
    expect(json(await passwordStep(gk.app, 'mfa_ada'))).toHaveProperty('access_token');
    const meBefore = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(access_token) });
    expect(json(meBefore).mfa_enabled).toBe(false);

    const wrong = String((Number(await codeAt(secret!, clock)) + 1) % 1_000_000).padStart(6, '0');
    expectError(await post(gk.app, '/auth/mfa/totp/confirm', { code: wrong }, access_token), 400, 'INVALID_CODE');
    const confirm = await post(gk.app, '/auth/mfa/totp/confirm', { code: await codeAt(secret!, clock) }, access_token);
    expect(confirm.statusCode, confirm.body).toBe(200);
    const codes = json(confirm).recovery_codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    // Once: a second confirm or setup is refused.
    expectError(
      await post(gk.app, '/auth/mfa/totp/confirm', { code: await codeAt(secret!, clock) }, access_token),
      409,
      'MFA_ALREADY_ENABLED',
    );
    expectError(
      await post(gk.app, '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, access_token),
      409,
      'MFA_ALREADY_ENABLED',
    );
    const me = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(access_token) });
    expect(json(me).mfa_enabled).toBe(true);
    const [mail] = await mailsTo(smtp, 'mfa_ada@example.test', 1);
    expect(mail!.mail.subject).toMatch(/Two-factor sign-in is on/);
    expect(mail!.mail.text).not.toContain(secret);
  });

  it('a correct password answers a challenge and no tokens; the code completes the login with amr pwd+otp, kept on refresh', async () => {
    const { secret } = await enrolled(gk.app, clock, 'mfa_bob');
    const token = await challenge(gk.app, 'mfa_bob');
    const res = await secondStep(gk.app, token, await codeAt(secret, clock));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const tokens = json(res) as { access_token: string; refresh_token: string };
    expect(decodeJwt(tokens.access_token).amr).toEqual(['pwd', 'otp']);
    const refreshed = await post(gk.app, '/auth/refresh', { refresh_token: tokens.refresh_token });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(decodeJwt(json(refreshed).access_token as string).amr).toEqual(['pwd', 'otp']);
    // The mfa_token was spent by the success.
    clock.advance(30);
    expectError(await secondStep(gk.app, token, await codeAt(secret, clock)), 401, 'INVALID_TOKEN');
    // Accounts without MFA: amr pwd.
    await register(gk.app, 'mfa_plain');
    expect(decodeJwt((await login(gk.app, 'mfa_plain')).access_token).amr).toEqual(['pwd']);
  });

  it('a used code is refused a second time within its window; ±1 step of drift is accepted, 2 steps is not', async () => {
    const { secret } = await enrolled(gk.app, clock, 'mfa_carol');
    const code = await codeAt(secret, clock);
    expect((await secondStep(gk.app, await challenge(gk.app, 'mfa_carol'), code)).statusCode).toBe(200);
    const again = await challenge(gk.app, 'mfa_carol');
    expectError(await secondStep(gk.app, again, code), 401, 'INVALID_CODE');

    clock.advance(901); // past the throttle window: the refused replay above counted against the account
    const stale = await challenge(gk.app, 'mfa_carol');
    expectError(await secondStep(gk.app, stale, await codeAt(secret, clock, -60)), 401, 'INVALID_CODE');
    expectError(await secondStep(gk.app, stale, await codeAt(secret, clock, 60)), 401, 'INVALID_CODE');
    expect((await secondStep(gk.app, stale, await codeAt(secret, clock, -30))).statusCode).toBe(200);
    // A phone running one step fast: accepted too (a later step than the last accepted one).
    const fast = await challenge(gk.app, 'mfa_carol');
    expect((await secondStep(gk.app, fast, await codeAt(secret, clock, 30))).statusCode).toBe(200);
    // After a code of step t+1, the current step's code is older than the last accepted: refused.
    const older = await challenge(gk.app, 'mfa_carol');
    expectError(await secondStep(gk.app, older, await codeAt(secret, clock)), 401, 'INVALID_CODE');
  });

  it('the mfa_token expires after 5 minutes and a newer challenge voids an older one', async () => {
    const { secret } = await enrolled(gk.app, clock, 'mfa_dave');
    const first = await challenge(gk.app, 'mfa_dave');
    clock.advance(301);
    expectError(await secondStep(gk.app, first, await codeAt(secret, clock)), 401, 'INVALID_TOKEN');
    const older = await challenge(gk.app, 'mfa_dave');
    const newer = await challenge(gk.app, 'mfa_dave');
    expectError(await secondStep(gk.app, older, await codeAt(secret, clock)), 401, 'INVALID_TOKEN');
    expect((await secondStep(gk.app, newer, await codeAt(secret, clock))).statusCode).toBe(200);
    expectError(await secondStep(gk.app, 'not-a-token', '123456'), 401, 'INVALID_TOKEN');
  });

  it('a recovery code signs in once, in any case and with or without dashes', async () => {
    const { recoveryCodes } = await enrolled(gk.app, clock, 'mfa_erin');
    const code = recoveryCodes[3]!;
    const typed = code.replaceAll('-', ' ').toUpperCase();
    const res = await secondStep(gk.app, await challenge(gk.app, 'mfa_erin'), typed);
    expect(res.statusCode, res.body).toBe(200);
    expect(decodeJwt(json(res).access_token as string).amr).toEqual(['pwd', 'otp']);
    expectError(await secondStep(gk.app, await challenge(gk.app, 'mfa_erin'), code), 401, 'INVALID_CODE');
    expect((await secondStep(gk.app, await challenge(gk.app, 'mfa_erin'), recoveryCodes[4]!)).statusCode).toBe(200);
  });

  it('the session a second step starts records the client address and user agent like a password login', async () => {
    const { recoveryCodes } = await enrolled(gk.app, clock, 'mfa_agent');
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/login/mfa',
      payload: { mfa_token: await challenge(gk.app, 'mfa_agent'), code: recoveryCodes[0]! },
      headers: { 'user-agent': 'mfa-test-agent/1' },
      remoteAddress: '203.0.113.9',
    });
    expect(res.statusCode, res.body).toBe(200);
    const listed = await gk.app.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: bearer(json(res).access_token as string),
    });
    const current = (json(listed) as unknown as Array<Record<string, unknown>>).find((s) => s.current);
    expect(current).toMatchObject({ ip: '203.0.113.9', user_agent: 'mfa-test-agent/1' });
  });

  it('the OAuth2 form login answers 400 MFA_REQUIRED for an MFA account, and tokens for others', async () => {
    await enrolled(gk.app, clock, 'mfa_form');
    const form = (username: string) =>
      gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=password&username=${username}&password=${encodeURIComponent(STRONG_PASSWORD)}`,
      });
    const refused = await form('mfa_form');
    expectError(refused, 400, 'MFA_REQUIRED');
    expect(refused.body).not.toContain('mfa_token');
    await register(gk.app, 'form_plain');
    expect(json(await form('form_plain'))).toHaveProperty('access_token');
  });

  it('the password and the code share one budget: alternating gains nothing, and the lock holds for a right code', async () => {
    const { secret } = await enrolled(gk.app, clock, 'mfa_frank');
    clock.advance(900); // a fresh throttle window
    const statuses: number[] = [];
    let token = '';
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) {
        const res = await passwordStep(gk.app, 'mfa_frank');
        statuses.push(res.statusCode);
        if (res.statusCode === 200) token = json(res).mfa_token as string;
      } else {
        statuses.push((await secondStep(gk.app, token, '000000')).statusCode);
      }
    }
    // 5 attempts in the window (GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES), then locked.
    expect(statuses.slice(0, 5)).toEqual([200, 401, 200, 401, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expectError(await secondStep(gk.app, token, await codeAt(secret, clock)), 429, 'TOO_MANY_ATTEMPTS');
    // After the window, a right code signs in and clears the counter.
    clock.advance(901);
    const fresh = await challenge(gk.app, 'mfa_frank');
    expect((await secondStep(gk.app, fresh, await codeAt(secret, clock))).statusCode).toBe(200);
  });

  it('disable needs the password and a code (a recovery code will do), mails a notice, and the password alone signs in again', async () => {
    const { secret, recoveryCodes, accessToken } = await enrolled(gk.app, clock, 'mfa_gina', {
      email: 'mfa_gina@example.test',
    });
    const del = (payload: object) =>
      gk.app.inject({ method: 'DELETE', url: '/auth/mfa/totp', payload, headers: bearer(accessToken) });
    expectError(
      await del({ password: 'wrong-password-1', code: await codeAt(secret, clock) }),
      400,
      'INVALID_PASSWORD',
    );
    expectError(await del({ password: STRONG_PASSWORD, code: 'zzzz-zzzz-zzzz' }), 400, 'INVALID_CODE');
    const off = await del({ password: STRONG_PASSWORD, code: recoveryCodes[0]! });
    expect(off.statusCode, off.body).toBe(200);
    expectError(await del({ password: STRONG_PASSWORD, code: recoveryCodes[1]! }), 409, 'MFA_NOT_ENABLED');
    const tokens = json(await passwordStep(gk.app, 'mfa_gina'));
    expect(decodeJwt(tokens.access_token as string).amr).toEqual(['pwd']);
    const mails = await mailsTo(smtp, 'mfa_gina@example.test', 2);
    expect(mails.map((m) => m.mail.subject)).toEqual([
      expect.stringMatching(/Two-factor sign-in is on/),
      expect.stringMatching(/Two-factor sign-in is off/),
    ]);
  });

  it('an admin resets a user’s MFA: audited, mailed, and the pending second step stops working', async () => {
    const { secret } = await enrolled(gk.app, clock, 'mfa_hank', { email: 'mfa_hank@example.test' });
    const admin = await adminTokens(gk, 'mfa_root');
    const pending = await challenge(gk.app, 'mfa_hank');
    const reset = () =>
      gk.app.inject({ method: 'DELETE', url: '/auth/users/mfa_hank/mfa', headers: bearer(admin.access_token) });
    expectError(
      await gk.app.inject({
        method: 'DELETE',
        url: '/auth/users/mfa_hank/mfa',
        headers: bearer((await login(gk.app, 'mfa_plain')).access_token),
      }),
      403,
      'FORBIDDEN',
    );
    const res = await reset();
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res).message).toMatch(/removed/);
    expect(json(await reset()).message).toMatch(/no second factor/);
    expectError(await secondStep(gk.app, pending, await codeAt(secret, clock)), 401, 'INVALID_TOKEN');
    expect(json(await passwordStep(gk.app, 'mfa_hank'))).toHaveProperty('access_token');
    const user = await gk.app.inject({
      method: 'GET',
      url: '/auth/users/mfa_hank',
      headers: bearer(admin.access_token),
    });
    expect(json(user).mfa_enabled).toBe(false);
    const audit = await gk.app.inject({
      method: 'GET',
      url: '/auth/audit?event=mfa.reset',
      headers: bearer(admin.access_token),
    });
    expect(json(audit)).toEqual(
      expect.arrayContaining([expect.objectContaining({ username: 'mfa_hank', detail: { by: 'mfa_root' } })]),
    );
    const mails = await mailsTo(smtp, 'mfa_hank@example.test', 2);
    expect(mails[1]!.mail.subject).toMatch(/administrator turned off/);
  });
});

describe('MFA on PostgreSQL: at rest, and two instances on one database', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let a: BuiltGatekeeper;
  let b: BuiltGatekeeper;
  let clock: TestClock;
  let databaseUrl: string;
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  beforeAll(async () => {
    const database = await createTestDatabase();
    databaseUrl = database.url;
    cleanups.push(() => database.drop());
    clock = testClock(START);
    const config = testConfig({ GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url });
    a = await buildGatekeeper(config, { hashParams: CHEAP_HASH, now: clock.now });
    cleanups.push(() => a.close());
    b = await buildGatekeeper(config, { hashParams: CHEAP_HASH, now: clock.now });
    cleanups.push(() => b.close());
  });

  it('the secret is stored encrypted, never in clear, and goes with the user', async () => {
    const { secret } = await enrolled(a.app, clock, 'pg_secret');
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ secret_ciphertext: string; last_step: string }>(
        `SELECT m.secret_ciphertext, m.last_step FROM user_mfa m JOIN users u ON u.id = m.user_id WHERE u.username = 'pg_secret'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.secret_ciphertext).toMatch(/^v1\.[0-9a-f]{8}\./);
      expect(rows[0]!.secret_ciphertext).not.toContain(secret);
      expect(Buffer.from(rows[0]!.secret_ciphertext.split('.')[3]!, 'base64url').toString('latin1')).not.toContain(
        secret,
      );
      const codes = await client.query(
        `SELECT c.code_hash FROM mfa_recovery_codes c JOIN users u ON u.id = c.user_id WHERE u.username = 'pg_secret'`,
      );
      expect(codes.rowCount).toBe(10);
      for (const row of codes.rows as { code_hash: string }[]) expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);

      const admin = await adminTokens(a, 'pg_root');
      const del = await a.app.inject({
        method: 'DELETE',
        url: '/auth/users/pg_secret',
        headers: bearer(admin.access_token),
      });
      expect(del.statusCode, del.body).toBe(200);
      const left = await client.query(
        `SELECT (SELECT count(*)::int FROM user_mfa) AS mfa, (SELECT count(*)::int FROM mfa_recovery_codes) AS codes`,
      );
      expect(left.rows[0]).toEqual({ mfa: 0, codes: 0 });
    } finally {
      await client.end();
    }
  });

  it('one code sent to both instances at once signs in exactly once', async () => {
    const { secret } = await enrolled(a.app, clock, 'pg_race');
    for (let round = 0; round < 5; round++) {
      clock.advance(30);
      const token = await challenge(a.app, 'pg_race');
      const code = await codeAt(secret, clock);
      const answers = await Promise.all([
        secondStep(a.app, token, code),
        secondStep(b.app, token, code),
        secondStep(a.app, token, code),
        secondStep(b.app, token, code),
      ]);
      expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
      // The losers are refused: 401, or 429 when their charges outran the winner's clearing of the
      // account's counter (each attempt is charged before it is checked).
      for (const r of answers.filter((r) => r.statusCode !== 200)) expect([401, 429]).toContain(r.statusCode);
      await a.service.unlockUser('pg_race');
    }
  });

  it('the password on one instance and codes on the other draw on one budget', async () => {
    const { secret } = await enrolled(a.app, clock, 'pg_budget');
    const statuses: number[] = [];
    let token = '';
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) {
        const res = await passwordStep(a.app, 'pg_budget');
        statuses.push(res.statusCode);
        if (res.statusCode === 200) token = json(res).mfa_token as string;
      } else {
        statuses.push((await secondStep(b.app, token, '000000')).statusCode);
      }
    }
    expect(statuses).toEqual([200, 401, 200, 401, 200, 429]);
    await (b.store as Partial<CachedStore>).syncInvalidations?.();
    expectError(await secondStep(b.app, token, await codeAt(secret, clock)), 429, 'TOO_MANY_ATTEMPTS');
  });

  it('a setup confirmed on one instance is seen by the other at once (mfa_enabled, the challenge)', async () => {
    const { accessToken } = await enrolled(a.app, clock, 'pg_seen');
    await challenge(b.app, 'pg_seen');
    const me = await b.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(accessToken) });
    expect(json(me).mfa_enabled).toBe(true);
  });
});
