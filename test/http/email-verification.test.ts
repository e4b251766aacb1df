/**
 * Issue 13, points 3 and 4: email verification (link and short code) and confirmed email changes,
 * end to end over HTTP, with a real SMTP server (test/support/smtp.ts) receiving the mails and, for
 * the PostgreSQL backend, a real database. Time moves by the injected clock only.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { MAX_CODE_ATTEMPTS } from '../../src/auth/email-verification.js';
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
  type TestGatekeeper,
} from '../support/app.js';
import { testClock, type TestClock } from '../support/clock.js';
import { mailsTo, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtp.js';

const PUBLIC_URL = 'https://id.example.test';
const LINK = /https:\/\/id\.example\.test\/verify-email#token=([A-Za-z0-9_-]+)/;
const CODE = /code is (\d{6})\b/;

interface Harness {
  gk: TestGatekeeper;
  smtp: TestSmtpServer;
  clock: TestClock;
  lines: string[];
}

async function startHarness(backend: (typeof BACKENDS)[number], env: Record<string, string> = {}): Promise<Harness> {
  const smtp = await startSmtpServer();
  const clock = testClock();
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const gk = await startGatekeeper(
    backend,
    { GATEKEEPER_SMTP_URL: smtp.url(), GATEKEEPER_PUBLIC_URL: PUBLIC_URL, GATEKEEPER_ACCESS_LOG: 'true', ...env },
    { now: clock.now, logger, mail: { retryDelaysMs: [10, 10] } },
  );
  return { gk, smtp, clock, lines };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  await h?.gk.close();
  await h?.smtp.stop();
}

/** The link's token and the short code of a verification mail. */
function secretsOf(mail: ReceivedMail): { token: string; code: string } {
  const text = mail.mail.text ?? '';
  const token = LINK.exec(text)?.[1];
  const code = CODE.exec(text)?.[1];
  if (!token || !code) throw new Error(`no verification link or code in the mail: ${mail.mail.subject ?? ''}`);
  return { token, code };
}

function verify(app: FastifyInstance, payload: Record<string, unknown>, token?: string) {
  return app.inject({
    method: 'POST',
    url: '/auth/email/verify',
    payload,
    ...(token === undefined ? {} : { headers: bearer(token) }),
  });
}

function requestVerification(app: FastifyInstance, token: string) {
  return app.inject({ method: 'POST', url: '/auth/email/verification', headers: bearer(token) });
}

function me(app: FastifyInstance, token: string) {
  return app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) });
}

function updateMe(app: FastifyInstance, token: string, payload: Record<string, unknown>) {
  return app.inject({ method: 'PUT', url: '/auth/me', headers: bearer(token), payload });
}

/** Registers `name` with an address and gives its first verification mail's secrets and a session. */
async function registered(h: Harness, name: string) {
  const email = `${name}@example.test`;
  const user = await register(h.gk.app, name, { email });
  expect(user.email_verified).toBe(false);
  const [mail] = await mailsTo(h.smtp, email);
  const tokens = await login(h.gk.app, name);
  return { email, mail: mail!, ...secretsOf(mail!), access: tokens.access_token };
}

describe.each(BACKENDS)('email verification (%s store)', (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(() => stopHarness(h));

  it('registration with an email mails a 6-digit code and a link to /verify-email, and no other secret', async () => {
    const { email, mail, token, code } = await registered(h, 'ver_ada');
    expect(mail.to).toEqual([email]);
    expect(mail.mail.subject).toMatch(/Confirm your email address/);
    expect(mail.mail.html).toContain(`${PUBLIC_URL}/verify-email#token=${token}`);
    expect(code).toMatch(/^\d{6}$/);
    expect(token.length).toBeGreaterThanOrEqual(43); // 256 bits in base64url
    for (const body of [mail.mail.text ?? '', String(mail.mail.html)]) expect(body).not.toContain(STRONG_PASSWORD);
  });

  it('registration without an email mails nothing', async () => {
    const before = h.smtp.received.length;
    await register(h.gk.app, 'ver_noemail');
    const user = await login(h.gk.app, 'ver_noemail');
    expect(json(await me(h.gk.app, user.access_token)).email_verified).toBe(false);
    expect(h.smtp.received.length).toBe(before);
    expectError(await requestVerification(h.gk.app, user.access_token), 422, 'VALIDATION_ERROR');
  });

  it('the link confirms (signed in or not), once; then /auth/me says email_verified and a new request is 409', async () => {
    const { token, access } = await registered(h, 'ver_bob');
    const confirmed = await verify(h.gk.app, { token });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(json(confirmed)).toMatchObject({ username: 'ver_bob', email_verified: true });
    expect(json(await me(h.gk.app, access)).email_verified).toBe(true);
    expectError(await verify(h.gk.app, { token }), 400, 'INVALID_TOKEN');
    expectError(await requestVerification(h.gk.app, access), 409, 'EMAIL_ALREADY_VERIFIED');
  });

  it('the short code needs its owner’s bearer token; the wrong one of another user does not spend it', async () => {
    const { code, access } = await registered(h, 'ver_cleo');
    const other = await registered(h, 'ver_dan');
    expectError(await verify(h.gk.app, { code }), 401, 'NOT_AUTHENTICATED');
    expectError(
      await verify(h.gk.app, { code: other.code === code ? '000000' : code }, other.access),
      400,
      'INVALID_TOKEN',
    );
    const confirmed = await verify(h.gk.app, { code: `${code.slice(0, 3)} ${code.slice(3)}` }, access);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(json(confirmed).email_verified).toBe(true);
  });

  it(`${MAX_CODE_ATTEMPTS} wrong codes void the code; a new mail brings a working one`, async () => {
    const { email, code, access } = await registered(h, 'ver_eve');
    const wrong = code === '123456' ? '654321' : '123456';
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i += 1) {
      expectError(await verify(h.gk.app, { code: wrong }, access), 400, 'INVALID_TOKEN');
    }
    expectError(await verify(h.gk.app, { code }, access), 400, 'INVALID_TOKEN');
    expect((await requestVerification(h.gk.app, access)).statusCode).toBe(202);
    const fresh = secretsOf((await mailsTo(h.smtp, email, 2))[1]!);
    expect((await verify(h.gk.app, { code: fresh.code }, access)).statusCode).toBe(200);
  });

  it('a new verification mail voids the older link', async () => {
    const { email, token, access } = await registered(h, 'ver_fay');
    expect((await requestVerification(h.gk.app, access)).statusCode).toBe(202);
    const fresh = secretsOf((await mailsTo(h.smtp, email, 2))[1]!);
    expect(fresh.token).not.toBe(token);
    expectError(await verify(h.gk.app, { token }), 400, 'INVALID_TOKEN');
    expect((await verify(h.gk.app, { token: fresh.token })).statusCode).toBe(200);
  });

  it('a link expires after GATEKEEPER_EMAIL_VERIFICATION_MINUTES (60)', async () => {
    const { token } = await registered(h, 'ver_gus');
    h.clock.advance(61 * 60);
    expectError(await verify(h.gk.app, { token }), 400, 'INVALID_TOKEN');
  });

  it('refuses a body with both or neither of token and code (422)', async () => {
    expectError(await verify(h.gk.app, {}), 422, 'VALIDATION_ERROR');
    expectError(await verify(h.gk.app, { token: 'a', code: '1' }), 422, 'VALIDATION_ERROR');
  });

  it('an email change makes it unverified, mails the new address a verification and the old one a notice', async () => {
    const { email, token, access } = await registered(h, 'ver_hal');
    expect((await verify(h.gk.app, { token })).statusCode).toBe(200);
    const changed = await updateMe(h.gk.app, access, {
      email: 'hal.new@example.test',
      current_password: STRONG_PASSWORD,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(json(changed)).toMatchObject({ email: 'hal.new@example.test', email_verified: false });
    const [notice] = (await mailsTo(h.smtp, email, 2)).slice(1);
    expect(notice!.mail.subject).toMatch(/email address .* is changing/);
    expect(notice!.mail.text).toContain('hal.new@example.test');
    expect(notice!.mail.text).not.toMatch(LINK);
    const [mail] = await mailsTo(h.smtp, 'hal.new@example.test');
    expect((await verify(h.gk.app, { token: secretsOf(mail!).token })).statusCode).toBe(200);
    expect(json(await me(h.gk.app, access))).toMatchObject({ email: 'hal.new@example.test', email_verified: true });
  });

  it('a link for the address before a change is void after it', async () => {
    const { token, access } = await registered(h, 'ver_ivy');
    const changed = await updateMe(h.gk.app, access, { email: null, current_password: STRONG_PASSWORD });
    expect(changed.statusCode, changed.body).toBe(200);
    expectError(await verify(h.gk.app, { token }), 400, 'INVALID_TOKEN');
    expect(json(await me(h.gk.app, access))).toMatchObject({ email: null, email_verified: false });
  });

  it('email_verified is an admin field: set and withdrawn by PUT /auth/users, refused in PUT /auth/me', async () => {
    const { email, access } = await registered(h, 'ver_jon');
    expectError(await updateMe(h.gk.app, access, { email_verified: true }), 403, 'FORBIDDEN');
    const admin = await adminTokens(h.gk);
    const put = (payload: Record<string, unknown>) =>
      h.gk.app.inject({ method: 'PUT', url: '/auth/users/ver_jon', headers: bearer(admin.access_token), payload });
    expect(json(await put({ email_verified: true })).email_verified).toBe(true);
    const listed = await h.gk.app.inject({
      method: 'GET',
      url: '/auth/users?q=ver_jon',
      headers: bearer(admin.access_token),
    });
    expect((json(listed) as unknown as Array<Record<string, unknown>>)[0]?.email_verified).toBe(true);
    expect(json(await put({ email_verified: false })).email_verified).toBe(false);
    // An admin's new address with their word for it: verified at once, only the notice is mailed.
    const before = h.smtp.received.length;
    const vouched = await put({ email: 'jon.new@example.test', email_verified: true });
    expect(json(vouched)).toMatchObject({ email: 'jon.new@example.test', email_verified: true });
    await mailsTo(h.smtp, email, 2);
    expect(h.smtp.received.filter((m) => m.to.includes('jon.new@example.test'))).toHaveLength(0);
    expect(h.smtp.received.length).toBe(before + 1);
    // Without it: unverified, and the new address is asked to confirm.
    expect(json(await put({ email: 'jon.third@example.test' })).email_verified).toBe(false);
    await mailsTo(h.smtp, 'jon.third@example.test');
    expectError(await put({ email: null, email_verified: true }), 422, 'VALIDATION_ERROR');
  });

  it('GET /verify-email is a page under the strict CSP, and fetching the link spends nothing', async () => {
    const { token } = await registered(h, 'ver_kim');
    const page = await h.gk.app.inject({ method: 'GET', url: `/verify-email` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).toContain('<form id="verify"');
    expect((await verify(h.gk.app, { token })).statusCode).toBe(200);
  });

  it('never writes a token or a code into a log line', async () => {
    const secrets = h.smtp.received.flatMap((m) => {
      try {
        const { token, code } = secretsOf(m);
        return [token, code];
      } catch {
        return [];
      }
    });
    expect(secrets.length).toBeGreaterThan(10);
    const log = h.lines.join('\n');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});

describe.each(BACKENDS)('required email verification (%s store)', (backend) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(backend, { GATEKEEPER_REQUIRE_EMAIL_VERIFICATION: 'true' });
  });
  afterAll(() => stopHarness(h));

  const loginAs = (username: string, password = STRONG_PASSWORD) =>
    h.gk.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });

  it('self-registration needs an email (422)', async () => {
    const res = await h.gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'req_none', password: STRONG_PASSWORD },
    });
    expectError(res, 422, 'VALIDATION_ERROR');
  });

  it('an unverified login: a wrong password is 401 as ever, the right one 403 EMAIL_NOT_VERIFIED and a fresh mail', async () => {
    await register(h.gk.app, 'req_ada', { email: 'req_ada@example.test' });
    await mailsTo(h.smtp, 'req_ada@example.test');
    expectError(await loginAs('req_ada', 'Wr0ng-Passw0rd!'), 401, 'INVALID_CREDENTIALS');
    expectError(await loginAs('req_ada'), 403, 'EMAIL_NOT_VERIFIED');
    const mails = await mailsTo(h.smtp, 'req_ada@example.test', 2);
    const { token } = secretsOf(mails[1]!);
    expect((await verify(h.gk.app, { token })).statusCode).toBe(200);
    expect((await loginAs('req_ada')).statusCode).toBe(200);
  });

  it('an email change waits for the new address: the old one stays in force until the link is followed', async () => {
    await register(h.gk.app, 'req_bob', { email: 'req_bob@example.test' });
    const [first] = await mailsTo(h.smtp, 'req_bob@example.test');
    expect((await verify(h.gk.app, { token: secretsOf(first!).token })).statusCode).toBe(200);
    const { access_token: access } = await login(h.gk.app, 'req_bob');
    const changed = await updateMe(h.gk.app, access, { email: 'bob.new@example.test', profile_picture_url: null });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(json(changed)).toMatchObject({ email: 'req_bob@example.test', email_verified: true });
    const notice = (await mailsTo(h.smtp, 'req_bob@example.test', 2))[1]!;
    expect(notice.mail.text).toContain('bob.new@example.test');
    // Still the old address: sign-in by it works, by the new one not yet.
    expect((await loginAs('req_bob@example.test')).statusCode).toBe(200);
    expectError(await loginAs('bob.new@example.test'), 401, 'INVALID_CREDENTIALS');
    const [mail] = await mailsTo(h.smtp, 'bob.new@example.test');
    const confirmed = await verify(h.gk.app, { code: secretsOf(mail!).code }, access);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(json(confirmed)).toMatchObject({ email: 'bob.new@example.test', email_verified: true });
    expect((await loginAs('bob.new@example.test')).statusCode).toBe(200);
  });

  it('a waiting change to an address another account has is 409 EMAIL_TAKEN', async () => {
    await register(h.gk.app, 'req_cleo', { email: 'req_cleo@example.test' });
    await register(h.gk.app, 'req_dan', { email: 'req_dan@example.test' });
    const [mail] = await mailsTo(h.smtp, 'req_cleo@example.test');
    await verify(h.gk.app, { token: secretsOf(mail!).token });
    const { access_token: access } = await login(h.gk.app, 'req_cleo');
    expectError(await updateMe(h.gk.app, access, { email: 'REQ_DAN@example.test' }), 409, 'EMAIL_TAKEN');
  });
});

describe('email verification across two instances on one database', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('postgres');
  });
  afterAll(() => stopHarness(h));

  it('a mail requested on one instance is confirmed on the other, and the first sees it', async () => {
    const other = await buildGatekeeper(h.gk.config, { hashParams: CHEAP_HASH, now: h.clock.now });
    try {
      const { token, access } = await registered(h, 'twin_ver');
      // Read once on the first instance, so a cached copy of the user exists there.
      expect(json(await me(h.gk.app, access)).email_verified).toBe(false);
      expect((await verify(other.app, { token })).statusCode).toBe(200);
      expectError(await verify(h.gk.app, { token }), 400, 'INVALID_TOKEN');
      // The change reaches the first instance's cache by notification: wait for it, with a deadline.
      const deadline = Date.now() + 5_000;
      while (json(await me(h.gk.app, access)).email_verified !== true) {
        if (Date.now() > deadline) throw new Error('the first instance still reads the user as unverified');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await other.close();
    }
  });
});
