/**
 * Issue 14, point 5 (the session part): the mails about sessions, received by a real SMTP server
 * (test/support/smtp.ts): every session signed out by an admin, and (GATEKEEPER_NOTIFY_NEW_ADDRESS)
 * a login from an address none of the user's sessions came from.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  STRONG_PASSWORD,
  adminTokens,
  bearer,
  login,
  register,
  startGatekeeper,
  type TestGatekeeper,
} from '../support/app.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

function loginFrom(app: FastifyInstance, username: string, ip: string, userAgent = 'TestAgent/1') {
  return app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username, password: STRONG_PASSWORD },
    remoteAddress: ip,
    headers: { 'user-agent': userAgent },
  });
}

/** The mails `address` got, once everything queued so far was delivered (no polling, no sleeping). */
async function mailsTo(gk: TestGatekeeper, smtp: TestSmtpServer, address: string) {
  await gk.mailer.idle();
  // Registration with an email also mails a verification (test/http/email-verification.test.ts): not a notice.
  return smtp.received.filter((m) => m.to.includes(address) && !/Confirm your email/.test(m.mail.subject ?? ''));
}

describe.each(BACKENDS)('session notices (%s store)', (backend) => {
  let smtp: TestSmtpServer;
  let gk: TestGatekeeper;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    gk = await startGatekeeper(backend, {
      GATEKEEPER_SMTP_URL: smtp.url(),
      GATEKEEPER_PUBLIC_URL: 'https://id.example.test',
      GATEKEEPER_NOTIFY_NEW_ADDRESS: 'true',
    });
  });
  afterAll(async () => {
    await gk?.close();
    await smtp?.stop();
  });

  it('mails the user when an admin signs out every session, with how many; nothing when there was none', async () => {
    await register(gk.app, 'signed_out', { email: 'signed_out@example.test' });
    await login(gk.app, 'signed_out');
    await login(gk.app, 'signed_out');
    const admin = await adminTokens(gk);
    const revoke = () =>
      gk.app.inject({
        method: 'POST',
        url: '/auth/users/signed_out/revoke-tokens',
        headers: bearer(admin.access_token),
      });
    expect((await revoke()).statusCode).toBe(200);
    const mails = await mailsTo(gk, smtp, 'signed_out@example.test');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.mail.subject).toBe('All your Gatekeeper sessions were signed out');
    expect(mails[0]!.mail.text).toContain('(2 in all)');
    expect(mails[0]!.mail.html).toContain('signed_out');
    // Nothing was left to sign out: no second mail.
    expect((await revoke()).statusCode).toBe(200);
    expect(await mailsTo(gk, smtp, 'signed_out@example.test')).toHaveLength(1);
  });

  it('mails on a login from a new address, not on the first login ever nor from a known address', async () => {
    await register(gk.app, 'traveller', { email: 'traveller@example.test' });
    expect((await loginFrom(gk.app, 'traveller', '192.0.2.1')).statusCode).toBe(200);
    expect((await loginFrom(gk.app, 'traveller', '192.0.2.1')).statusCode).toBe(200);
    expect(await mailsTo(gk, smtp, 'traveller@example.test')).toHaveLength(0);
    const agent = 'Evil <script>alert(1)</script>';
    expect((await loginFrom(gk.app, 'traveller', '198.51.100.23', agent)).statusCode).toBe(200);
    const mails = await mailsTo(gk, smtp, 'traveller@example.test');
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.mail.subject).toBe('New sign-in to your Gatekeeper account');
    expect(mail!.mail.text).toContain('Address: 198.51.100.23');
    expect(mail!.mail.text).toContain(`Browser or app: ${agent}`);
    // The user agent is the client's text: escaped in the HTML part.
    expect(mail!.mail.html).toContain('Evil &lt;script&gt;');
    expect(mail!.mail.html).not.toContain('<script>');
    // Known now: no second mail from it.
    expect((await loginFrom(gk.app, 'traveller', '198.51.100.23')).statusCode).toBe(200);
    expect(await mailsTo(gk, smtp, 'traveller@example.test')).toHaveLength(1);
  });

  it('a failed login from a new address mails nothing', async () => {
    await register(gk.app, 'guarded', { email: 'guarded@example.test' });
    await loginFrom(gk.app, 'guarded', '192.0.2.50');
    const wrong = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'guarded', password: 'Wr0ng-Password!' },
      remoteAddress: '203.0.113.77',
    });
    expect(wrong.statusCode).toBe(401);
    expect(await mailsTo(gk, smtp, 'guarded@example.test')).toHaveLength(0);
  });
});

describe('GATEKEEPER_NOTIFY_NEW_ADDRESS is off by default', () => {
  it('mails nothing for a login from a new address', async () => {
    const smtp = await startSmtpServer();
    const gk = await startGatekeeper('memory', {
      GATEKEEPER_SMTP_URL: smtp.url(),
      GATEKEEPER_PUBLIC_URL: 'https://id.example.test',
    });
    try {
      await register(gk.app, 'quiet_user', { email: 'quiet@example.test' });
      expect((await loginFrom(gk.app, 'quiet_user', '192.0.2.1')).statusCode).toBe(200);
      expect((await loginFrom(gk.app, 'quiet_user', '198.51.100.1')).statusCode).toBe(200);
      expect(await mailsTo(gk, smtp, 'quiet@example.test')).toHaveLength(0);
    } finally {
      await gk.close();
      await smtp.stop();
    }
  });
});
