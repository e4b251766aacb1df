/**
 * Issue 13, point 2: password reset by mail, end to end over HTTP, with a real SMTP server
 * (test/support/smtp.ts) receiving the mails and, for the PostgreSQL backend, a real database.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { FORGOT_MESSAGE } from '../../src/http/routes/password-reset.js';
import {
  BACKENDS,
  CHEAP_HASH,
  STRONG_PASSWORD,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';
import {
  VERIFICATION_SUBJECT,
  mailsTo as mailsToAddress,
  startSmtpServer,
  type ReceivedMail,
  type TestSmtpServer,
} from '../support/smtp.js';

/** The reset mails and notices to `address`; registration's verification mail is not counted here. */
const mailsTo = (smtp: TestSmtpServer, address: string, count = 1, timeoutMs = 10_000) =>
  mailsToAddress(smtp, address, count, { timeoutMs, except: VERIFICATION_SUBJECT });

const PUBLIC_URL = 'https://id.example.test';
const NEW_PASSWORD = 'N3w-Passw0rd!x';
const LINK = /https:\/\/id\.example\.test\/reset-password#token=([A-Za-z0-9_-]+)/;
const SAMPLES = 15;

let addressCounter = 0;
/** A fresh client address per request, so the per-address limit stays out of the tests not about it. */
function nextAddress(): string {
  addressCounter += 1;
  return `192.0.2.${(addressCounter % 250) + 1}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function forgot(app: FastifyInstance, payload: Record<string, unknown>, remoteAddress = nextAddress()) {
  return app.inject({ method: 'POST', url: '/auth/password/forgot', payload, remoteAddress });
}

function reset(app: FastifyInstance, token: string, newPassword = NEW_PASSWORD) {
  return app.inject({
    method: 'POST',
    url: '/auth/password/reset',
    payload: { token, new_password: newPassword },
    remoteAddress: nextAddress(),
  });
}

function tokenOf(mail: ReceivedMail): string {
  const match = LINK.exec(mail.mail.text ?? '');
  if (!match) throw new Error('no reset link in the mail');
  return match[1]!;
}

/** Registers `name` with an email and mails it a reset link; gives the token from the mail. */
async function tokenFor(
  gk: TestGatekeeper,
  smtp: TestSmtpServer,
  name: string,
  mailsBefore = 0,
  registered = mailsBefore > 0,
): Promise<string> {
  const email = `${name}@example.test`;
  if (!registered) await register(gk.app, name, { email });
  const res = await forgot(gk.app, { email });
  expect(res.statusCode, res.body).toBe(202);
  const mails = await mailsTo(smtp, email, mailsBefore + 1);
  return tokenOf(mails[mailsBefore]!);
}

interface Harness {
  gk: TestGatekeeper;
  smtp: TestSmtpServer;
  clock: TestClock;
  lines: string[];
  /** Every token seen in a mail, to look for in the logs at the end. */
  tokens: string[];
}

async function startHarness(backend: (typeof BACKENDS)[number]): Promise<Harness> {
  const smtp = await startSmtpServer();
  const clock = testClock();
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const gk = await startGatekeeper(
    backend,
    { GATEKEEPER_SMTP_URL: smtp.url(), GATEKEEPER_PUBLIC_URL: PUBLIC_URL, GATEKEEPER_ACCESS_LOG: 'true' },
    { now: clock.now, logger, mail: { retryDelaysMs: [10, 10] } },
  );
  return { gk, smtp, clock, lines, tokens: [] };
}

describe.each(BACKENDS)('password reset (%s store)', (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => {
    await h?.gk.close();
    await h?.smtp.stop();
  });

  it('forgot answers an existing and an unknown account alike: 202, the same body', async () => {
    await register(h.gk.app, 'same_ada', { email: 'same_ada@example.test' });
    const answers = await Promise.all([
      forgot(h.gk.app, { email: 'same_ada@example.test' }),
      forgot(h.gk.app, { email: 'nobody@example.test' }),
      forgot(h.gk.app, { username: 'same_ada' }),
      forgot(h.gk.app, { username: 'nobody_at_all' }),
    ]);
    const shapes = answers.map((res) => ({
      status: res.statusCode,
      body: json(res),
      type: res.headers['content-type'],
      cache: res.headers['cache-control'],
    }));
    expect(shapes[0]).toEqual({
      status: 202,
      body: { message: FORGOT_MESSAGE },
      type: 'application/json; charset=utf-8',
      cache: 'no-store',
    });
    for (const shape of shapes) expect(shape).toEqual(shapes[0]);
    // Only the existing account got mail (two: by email and by username; the second voids the first).
    const mails = await mailsTo(h.smtp, 'same_ada@example.test', 2);
    expect(mails).toHaveLength(2);
    expect(h.smtp.received.some((m) => m.to.includes('nobody@example.test'))).toBe(false);
  });

  it('forgot takes similar time for an existing and an unknown account: medians within 0.5×–2×', async () => {
    // One account per sample, so the hourly mail budget of an account stays out of the measurement.
    for (let i = 0; i < SAMPLES; i += 1) await register(h.gk.app, `timing_${i}`, { email: `timing_${i}@example.test` });
    const timings = { existing: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < SAMPLES; i += 1) {
      for (const [name, email] of [
        ['existing', `timing_${i}@example.test`],
        ['unknown', `missing_${i}@example.test`],
      ] as const) {
        const started = performance.now();
        const res = await forgot(h.gk.app, { email });
        timings[name].push(performance.now() - started);
        expect(res.statusCode).toBe(202);
      }
    }
    const existing = median(timings.existing);
    const unknown = median(timings.unknown);
    console.log(
      `[password-reset ${backend}] forgot medians: existing ${existing.toFixed(1)} ms, unknown ${unknown.toFixed(1)} ms`,
    );
    expect(unknown / existing).toBeGreaterThanOrEqual(0.5);
    expect(unknown / existing).toBeLessThanOrEqual(2);
    await mailsTo(h.smtp, `timing_${SAMPLES - 1}@example.test`);
  }, 60_000);

  it('mails the account a link on GATEKEEPER_PUBLIC_URL with the token in the fragment, and no other secret', async () => {
    await register(h.gk.app, 'mail_ada', { email: 'mail_ada@example.test' });
    await forgot(h.gk.app, { email: 'mail_ada@example.test' });
    const [received] = await mailsTo(h.smtp, 'mail_ada@example.test');
    const mail = received!.mail;
    expect(received!.to).toEqual(['mail_ada@example.test']);
    const token = tokenOf(received!);
    h.tokens.push(token);
    // ≥ 128 random bits: 32 bytes in base64url.
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const link = `${PUBLIC_URL}/reset-password#token=${token}`;
    expect(mail.text).toContain(link);
    expect(String(mail.html)).toContain(link);
    const user = await h.gk.store.getUserByUsername('mail_ada');
    const everything = `${mail.subject}\n${mail.text}\n${String(mail.html)}\n${JSON.stringify(mail.headers)}`;
    for (const secret of [STRONG_PASSWORD, user!.passwordHash, sha256(token), user!.id]) {
      expect(everything).not.toContain(secret);
    }
    // The token appears only inside the link.
    expect(everything.split(token).length - 1).toBe(everything.split(link).length - 1);
  });

  it('reset with the mailed token: 200, old password refused, new one works, every old session ended, notice mailed', async () => {
    await register(h.gk.app, 'reset_ada', { email: 'reset_ada@example.test' });
    const sessions = [await login(h.gk.app, 'reset_ada'), await login(h.gk.app, 'reset_ada')];
    const token = await tokenFor(h.gk, h.smtp, 'reset_ada', 0, true);
    h.tokens.push(token);
    const res = await reset(h.gk.app, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(typeof json(res).message).toBe('string');
    const old = await h.gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'reset_ada', password: STRONG_PASSWORD },
    });
    expectError(old, 401, 'INVALID_CREDENTIALS');
    await login(h.gk.app, 'reset_ada', NEW_PASSWORD);
    for (const session of sessions) {
      const refreshed = await h.gk.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: session.refresh_token },
      });
      expect(refreshed.statusCode).toBe(401);
    }
    const mails = await mailsTo(h.smtp, 'reset_ada@example.test', 2);
    expect(mails[1]!.mail.subject).toMatch(/password was changed/);
    expect(mails[1]!.mail.text).not.toContain(token);
    const audit = await h.gk.service.listAuditEvents({ user: 'reset_ada', event: 'password.reset', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ sessions_revoked: 2 });
    // Spent: a second use is refused.
    expectError(await reset(h.gk.app, token, 'An0ther-Passw0rd!'), 400, 'INVALID_TOKEN');
  });

  it('a reset ends a lockout at once: the new password signs in on the instance that refused the old ones', async () => {
    await register(h.gk.app, 'reset_locked', { email: 'reset_locked@example.test' });
    const wrong = () =>
      h.gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'reset_locked', password: 'Wr0ng-Passw0rd!' },
        remoteAddress: nextAddress(),
      });
    let last = await wrong();
    for (let i = 0; i < 10 && last.statusCode !== 429; i += 1) last = await wrong();
    expectError(last, 429, 'TOO_MANY_ATTEMPTS');
    const token = await tokenFor(h.gk, h.smtp, 'reset_locked', 0, true);
    expect((await reset(h.gk.app, token)).statusCode).toBe(200);
    // No clock step: the lock this instance cached a moment ago must not outlive the reset.
    await login(h.gk.app, 'reset_locked', NEW_PASSWORD);
  });

  it('refuses an unknown token and an expired one with 400 INVALID_TOKEN', async () => {
    expectError(await reset(h.gk.app, 'A'.repeat(43)), 400, 'INVALID_TOKEN');
    const token = await tokenFor(h.gk, h.smtp, 'expiry_ada');
    h.tokens.push(token);
    h.clock.advance(30 * 60 + 1);
    expectError(await reset(h.gk.app, token), 400, 'INVALID_TOKEN');
    await login(h.gk.app, 'expiry_ada');
  });

  it('a second forgot voids the first token', async () => {
    const first = await tokenFor(h.gk, h.smtp, 'second_ada');
    const second = await tokenFor(h.gk, h.smtp, 'second_ada', 1);
    h.tokens.push(first, second);
    expect(second).not.toBe(first);
    expectError(await reset(h.gk.app, first), 400, 'INVALID_TOKEN');
    expect((await reset(h.gk.app, second)).statusCode).toBe(200);
  });

  it('a new password refused by the policy answers 422 and leaves the token usable', async () => {
    const token = await tokenFor(h.gk, h.smtp, 'policy_ada');
    h.tokens.push(token);
    const refused = await reset(h.gk.app, token, 'short');
    expectError(refused, 422, 'VALIDATION_ERROR');
    expect(json(refused).errors).toEqual([expect.objectContaining({ field: 'new_password' })]);
    expect((await reset(h.gk.app, token)).statusCode).toBe(200);
    await login(h.gk.app, 'policy_ada', NEW_PASSWORD);
  });

  it('a password change voids an outstanding reset token', async () => {
    const token = await tokenFor(h.gk, h.smtp, 'change_ada');
    h.tokens.push(token);
    const tokens = await login(h.gk.app, 'change_ada');
    const changed = await h.gk.app.inject({
      method: 'POST',
      url: '/auth/change-password',
      headers: { authorization: `Bearer ${tokens.access_token}` },
      payload: { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expectError(await reset(h.gk.app, token, 'An0ther-Passw0rd!'), 400, 'INVALID_TOKEN');
    // And an admin's password set too.
    const next = await tokenFor(h.gk, h.smtp, 'change_ada', 1);
    await h.gk.service.setPassword('change_ada', 'Adm1n-Set-Passw0rd!');
    expectError(await reset(h.gk.app, next), 400, 'INVALID_TOKEN');
  });

  it('a flood of forgot requests for one account sends at most 3 mails in the hour', async () => {
    await register(h.gk.app, 'flood_ada', { email: 'flood_ada@example.test' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => forgot(h.gk.app, { email: 'flood_ada@example.test' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(202));
    await mailsTo(h.smtp, 'flood_ada@example.test', 3);
    await h.gk.mailer.idle();
    expect(await mailsTo(h.smtp, 'flood_ada@example.test', 3, 0)).toHaveLength(3);
    // An hour later the account may have one again.
    h.clock.advance(3601);
    await forgot(h.gk.app, { email: 'flood_ada@example.test' });
    await mailsTo(h.smtp, 'flood_ada@example.test', 4);
  });

  it('throttles one client address with 429 and Retry-After, whatever the account', async () => {
    const address = '198.51.100.7';
    for (let i = 0; i < 10; i += 1) {
      expect((await forgot(h.gk.app, { email: `throttle_${i}@example.test` }, address)).statusCode).toBe(202);
    }
    const refused = await forgot(h.gk.app, { email: 'throttle_x@example.test' }, address);
    expectError(refused, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await forgot(h.gk.app, { email: 'throttle_x@example.test' })).statusCode).toBe(202);
  });

  it('refuses a body with both or neither of email and username (422)', async () => {
    expectError(await forgot(h.gk.app, {}), 422, 'VALIDATION_ERROR');
    expectError(await forgot(h.gk.app, { email: 'a@example.test', username: 'a' }), 422, 'VALIDATION_ERROR');
    expectError(await forgot(h.gk.app, { email: 'x\u0000@example.test' }), 422, 'VALIDATION_ERROR');
  });

  it('GET /reset-password serves a page under the strict CSP, and fetching the link spends nothing', async () => {
    const token = await tokenFor(h.gk, h.smtp, 'page_ada');
    h.tokens.push(token);
    // What a mail scanner fetches: the link's URL (its fragment never reaches a server).
    const page = await h.gk.app.inject({ method: 'GET', url: `/reset-password#token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).toContain('<label for="password">');
    expect(page.body).toContain('<label for="confirm">');
    // No inline script or style: every script and stylesheet is a hashed file of Gatekeeper's own.
    expect(page.body).not.toMatch(/<script>|<style|style=/);
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) expect(src).toMatch(/^\/ui\/assets\/[a-z-]+\.[0-9a-f]{12}\.js$/);
    expect(page.body).not.toContain(token);
    expect((await reset(h.gk.app, token)).statusCode).toBe(200);
  });

  it('never writes a token, its hash or a password into a log line', async () => {
    expect(h.tokens.length).toBeGreaterThan(5);
    const logs = h.lines.join('\n');
    expect(logs).toContain('/auth/password/forgot');
    for (const token of h.tokens) {
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(sha256(token));
    }
    expect(logs).not.toContain(NEW_PASSWORD);
    expect(logs).not.toContain(STRONG_PASSWORD);
  });
});

describe('password reset across two instances on one database', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('postgres');
  });
  afterAll(async () => {
    await h?.gk.close();
    await h?.smtp.stop();
  });

  it('a link requested on one instance resets the password on the other', async () => {
    const other = await buildGatekeeper(h.gk.config, { hashParams: CHEAP_HASH, now: h.clock.now });
    try {
      const token = await tokenFor(h.gk, h.smtp, 'twin_ada');
      const refreshToken = (await login(h.gk.app, 'twin_ada')).refresh_token;
      expect((await reset(other.app, token)).statusCode).toBe(200);
      expectError(await reset(h.gk.app, token), 400, 'INVALID_TOKEN');
      await login(h.gk.app, 'twin_ada', NEW_PASSWORD);
      const refreshed = await h.gk.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refresh_token: refreshToken },
      });
      expect(refreshed.statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });
});
