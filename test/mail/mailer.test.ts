/**
 * The mailer against a real SMTP server on loopback (test/support/smtp.ts): what arrives, STARTTLS
 * on a self-signed certificate, retries, failures counted in /metrics, the outbox, template overrides,
 * and never the relay's password in a log line or an error.
 */
import { createServer } from 'node:net';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { loadConfig } from '../../src/config.js';
import { Mailer, type MailerOptions } from '../../src/mail/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const PASSWORD = 'relay-S3cret/pw';
const USER = 'gatekeeper@relay';

function capturedLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }), lines };
}

function mailer(options: Partial<MailerOptions> & { smtpUrl: string | null }): Mailer {
  return new Mailer({
    from: 'Gatekeeper <no-reply@localhost>',
    publicUrl: 'https://id.example.test/app',
    productName: 'Acme ID',
    outboxDir: null,
    retryDelaysMs: [20, 20],
    attemptTimeoutMs: 5_000,
    ...options,
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-mail-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('over SMTP', () => {
  let server: TestSmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer();
  });
  afterAll(() => server.stop());

  it('delivers the rendered mail: recipient, subject, text and HTML, the link on GATEKEEPER_PUBLIC_URL', async () => {
    const m = mailer({ smtpUrl: server.url() });
    const link = m.link('/reset-password#token=tok-123');
    expect(link).toBe('https://id.example.test/app/reset-password#token=tok-123');
    m.send({ to: 'ada@example.test', template: 'password-reset', values: { username: 'ada<b>', link, minutes: '30' } });
    const [got] = await server.waitFor(1);
    await m.idle();
    expect(got!.to).toEqual(['ada@example.test']);
    expect(got!.secure).toBe(false);
    expect(got!.mail.subject).toBe('Reset your Acme ID password');
    expect(got!.mail.from?.value[0]).toMatchObject({ name: 'Gatekeeper', address: 'no-reply@localhost' });
    expect(got!.mail.text).toContain('Hello ada<b>,');
    expect(got!.mail.text).toContain(link);
    expect(got!.mail.html).toContain('Hello ada&lt;b&gt;,');
    expect(got!.mail.html).toContain(`<a href="${link}">`);
    expect(m.figures).toEqual({ sent: 1, failed: 0 });
    await m.close(1_000);
  });

  it('retries a refused delivery and delivers it on a later attempt', async () => {
    const { log, lines } = capturedLogger();
    const before = server.received.length;
    const refusedBefore = server.refusals;
    server.refuse(2);
    const m = mailer({ smtpUrl: server.url(), log, attempts: 3 });
    m.send({ to: 'bob@example.test', template: 'password-changed', values: { username: 'bob' } });
    await server.waitFor(before + 1);
    await m.idle();
    expect(server.refusals - refusedBefore).toBe(2);
    expect(m.figures).toEqual({ sent: 1, failed: 0 });
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
    expect(server.received.at(-1)!.mail.subject).toBe('Your Acme ID password was changed');
    await m.close(1_000);
  });

  it('close() does not wait out a retry backoff: the mail is given up and counted at once', async () => {
    const { log, lines } = capturedLogger();
    const refusedBefore = server.refusals;
    server.refuse(Infinity);
    try {
      const m = mailer({ smtpUrl: server.url(), log, attempts: 3, retryDelaysMs: [60_000] });
      m.send({ to: 'late@example.test', template: 'test' });
      const deadline = Date.now() + 10_000;
      while (server.refusals === refusedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(server.refusals - refusedBefore).toBe(1);
      const started = Date.now();
      await m.close(2_000);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(m.figures).toEqual({ sent: 0, failed: 1 });
      // A mail sent after close is dropped and counted, never queued.
      m.send({ to: 'later@example.test', template: 'test' });
      expect(m.figures).toEqual({ sent: 0, failed: 2 });
      expect(lines.some((l) => l.includes('the mailer is closed'))).toBe(true);
    } finally {
      server.refuse(0);
    }
  });

  it('an unknown SMTP port is a one-line connection error', async () => {
    const m = mailer({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}` });
    const outcome = await m.sendNow({ to: 'x@example.test', template: 'test' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(/ECONNREFUSED/);
    await m.close(0);
  });
});

describe('STARTTLS with a self-signed certificate and AUTH', () => {
  let server: TestSmtpServer;
  beforeAll(async () => {
    server = await startSmtpServer({ tls: true, auth: { user: USER, pass: PASSWORD } });
  });
  afterAll(() => server.stop());

  it('upgrades the connection and authenticates when the CA is trusted (GATEKEEPER_SMTP_CA_FILE)', async () => {
    const { log, lines } = capturedLogger();
    const m = mailer({ smtpUrl: server.url({ user: USER, pass: PASSWORD }), smtpCaFile: server.caFile, log });
    const outcome = await m.sendNow({ to: 'eve@example.test', template: 'test', values: { link: m.link('/') } });
    expect(outcome).toMatchObject({ ok: true, via: 'smtp', accepted: ['eve@example.test'], rejected: [] });
    const [got] = await server.waitFor(1);
    expect(got!.secure).toBe(true);
    expect(got!.mail.subject).toBe('Acme ID test mail');
    expect(m.destination).toBe(`smtp://${encodeURIComponent(USER)}:***@127.0.0.1:${server.port}`);
    expect(lines.join('\n')).not.toContain(PASSWORD);
    await m.close(0);
  });

  it('refuses the certificate when its CA is not trusted', async () => {
    const m = mailer({ smtpUrl: server.url({ user: USER, pass: PASSWORD }) });
    const outcome = await m.sendNow({ to: 'eve@example.test', template: 'test' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(/certificate/i);
    expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
    await m.close(0);
  });

  it('an authentication failure names itself, never the password', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const m = mailer({ smtpUrl: server.url({ user: USER, pass: wrong }), smtpCaFile: server.caFile });
    const outcome = await m.sendNow({ to: 'eve@example.test', template: 'test' });
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(/EAUTH|Invalid login|535/);
    expect(JSON.stringify(outcome)).not.toContain(wrong);
    expect(JSON.stringify(outcome)).not.toContain(encodeURIComponent(wrong));
    await m.close(0);
  });

  it('a server that always refuses: given up after the bounded attempts, counted in /metrics, logged without the password', async () => {
    const { log, lines } = capturedLogger();
    server.refuse(Infinity);
    const built = await buildGatekeeper(
      loadConfig({
        GATEKEEPER_BACKEND: 'memory',
        GATEKEEPER_SMTP_URL: server.url({ user: USER, pass: PASSWORD }),
        GATEKEEPER_SMTP_CA_FILE: server.caFile!,
        GATEKEEPER_PUBLIC_URL: 'https://id.example.test',
        GATEKEEPER_SECRET_KEY: 'k'.repeat(40),
      }),
      { logger: log, mail: { retryDelaysMs: [20, 20], attempts: 3 } },
    );
    try {
      const refusedBefore = server.refusals;
      built.mailer.send({ to: 'eve@example.test', template: 'test' });
      await built.mailer.idle();
      expect(server.refusals - refusedBefore).toBe(3);
      expect(built.mailer.figures).toEqual({ sent: 0, failed: 1 });
      const metrics = await built.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^gatekeeper_mail_send_failures_total 1$/m);
      expect(metrics.body).toMatch(/^gatekeeper_mails_sent_total 0$/m);
      const failure = lines.find((l) => l.includes('mail not sent'));
      expect(failure).toBeDefined();
      expect(failure).toContain('451');
      expect(lines.join('\n')).not.toContain(PASSWORD);
      expect(lines.join('\n')).not.toContain(encodeURIComponent(PASSWORD));
    } finally {
      server.refuse(0);
      await built.close();
    }
  });
});

describe('smtps:// (TLS from the first byte)', () => {
  it('delivers over implicit TLS with the CA trusted', async () => {
    const server = await startSmtpServer({ implicitTls: true });
    try {
      const m = mailer({ smtpUrl: server.url(), smtpCaFile: server.caFile });
      expect(server.url()).toMatch(/^smtps:/);
      const outcome = await m.sendNow({ to: 'tls@example.test', template: 'test' });
      expect(outcome).toMatchObject({ ok: true, via: 'smtp', accepted: ['tls@example.test'] });
      const [got] = await server.waitFor(1);
      expect(got!.secure).toBe(true);
      await m.close(0);
    } finally {
      await server.stop();
    }
  });
});

describe('without SMTP', () => {
  it('writes a .eml into the outbox that mailparser reads back, and logs the file, not the body', async () => {
    const { log, lines } = capturedLogger();
    const outboxDir = path.join(dir, 'outbox');
    const m = mailer({ smtpUrl: null, outboxDir, log });
    const link = m.link('/verify-email#token=secret-token-xyz');
    m.send({
      to: 'ada@example.test',
      template: 'email-verification',
      values: { username: 'ada', code: '123456', link, minutes: '30' },
    });
    await m.idle();
    const files = await readdir(outboxDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const file = path.join(outboxDir, files[0]!);
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.to && !Array.isArray(parsed.to) && parsed.to.text).toBe('ada@example.test');
    expect(parsed.subject).toBe('Confirm your email address for Acme ID');
    expect(parsed.text).toContain('123456');
    expect(parsed.text).toContain(link);
    expect(parsed.html).toContain(`<a href="${link}">`);
    const logged = lines.find((l) => l.includes('outbox'));
    expect(logged).toContain(file);
    expect(lines.join('\n')).not.toContain('secret-token-xyz');
    expect(lines.join('\n')).not.toContain('123456');
    await m.close(0);
  });

  it('the memory backend keeps mails in the in-process outbox', async () => {
    const built = await buildGatekeeper(
      loadConfig({ GATEKEEPER_BACKEND: 'memory', GATEKEEPER_SECRET_KEY: 'k'.repeat(40), PORT: '8123' }),
    );
    try {
      expect(built.mailer.link('/x')).toBe('http://localhost:8123/x');
      built.mailer.send({ to: 'Ada@Example.test', template: 'email-change-notice', values: { newEmail: 'n@e.test' } });
      await built.mailer.idle();
      const [mail] = built.mailer.outbox!.to('ada@example.test');
      expect(mail!.subject).toBe('The email address of your Gatekeeper account is changing');
      expect(mail!.text).toContain('n@e.test');
      expect(mail!.raw).toMatch(/^Subject: The email address/m);
    } finally {
      await built.close();
    }
  });

  it('an operator folder overrides single templates; values stay escaped in HTML', async () => {
    const templates = path.join(dir, 'templates');
    await rm(templates, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(templates));
    await writeFile(path.join(templates, 'password-reset.subject'), '{{product}}: new password for {{username}}\n');
    await writeFile(path.join(templates, 'password-reset.html'), '<h1>{{product}}</h1><p>{{username}}</p>');
    const m = mailer({ smtpUrl: null, templatesDir: templates, productName: 'Acme & Co' });
    m.send({
      to: 'a@example.test',
      template: 'password-reset',
      values: { username: '<i>ada</i>', link: 'L', minutes: '30' },
    });
    await m.idle();
    const [mail] = m.outbox!.mails;
    expect(mail!.subject).toBe('Acme & Co: new password for <i>ada</i>');
    expect(mail!.html).toBe('<h1>Acme &amp; Co</h1><p>&lt;i&gt;ada&lt;/i&gt;</p>');
    // Not overridden: the built-in text.
    expect(mail!.text).toContain('Someone (hopefully you) asked to reset the password of your Acme & Co account.');
    await m.close(0);
  });

  it('a missing template folder is an error at start, not a lost mail', () => {
    expect(() => mailer({ smtpUrl: null, templatesDir: path.join(dir, 'nope') })).toThrow(
      /GATEKEEPER_MAIL_TEMPLATES_DIR/,
    );
  });
});
