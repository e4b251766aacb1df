/**
 * A real SMTP server for tests (npm smtp-server) on 127.0.0.1 and a free port, keeping every
 * message it accepts parsed by mailparser. Optionally with STARTTLS on a self-signed
 * certificate made by the openssl CLI in a temp dir, and optionally requiring AUTH.
 * `refuse(n)` makes the next n deliveries fail with a temporary 451 at RCPT TO.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** RCPT TO addresses. */
  to: string[];
  /** The connection was upgraded with STARTTLS before the message. */
  secure: boolean;
  mail: ParsedMail;
}

export interface TestSmtpServer {
  readonly port: number;
  /** The PEM file of the self-signed certificate (its own CA), with `tls`. */
  readonly caFile: string | null;
  readonly received: ReceivedMail[];
  /** smtp://[user:pass@]127.0.0.1:port (smtps:// with `implicitTls`) */
  url(credentials?: { user: string; pass: string }): string;
  /** The next `count` deliveries are refused (451); Infinity: all. */
  refuse(count: number): void;
  /** Deliveries refused so far. */
  readonly refusals: number;
  /** Resolves once `count` messages arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export async function startSmtpServer(
  options: {
    /** STARTTLS on a self-signed certificate. */
    tls?: boolean;
    /** TLS from the first byte (smtps://) on that certificate; implies `tls`. */
    implicitTls?: boolean;
    auth?: { user: string; pass: string };
  } = {},
): Promise<TestSmtpServer> {
  if (options.implicitTls) options = { ...options, tls: true };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-smtp-'));
  let key: Buffer | undefined;
  let cert: Buffer | undefined;
  if (options.tls) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    key = await readFile(path.join(dir, 'key.pem'));
    cert = await readFile(path.join(dir, 'cert.pem'));
  }
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let toRefuse = 0;
  let refusals = 0;

  const server = new SMTPServer({
    logger: false,
    secure: options.implicitTls === true,
    // Without a certificate of ours, STARTTLS would be offered with smtp-server's built-in one.
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    ...(key && cert ? { key, cert } : {}),
    authOptional: !options.auth,
    allowInsecureAuth: !options.tls,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onRcptTo(_address, _session, callback) {
      if (toRefuse > 0) {
        toRefuse -= 1;
        refusals += 1;
        callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, mail });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;

  return {
    port,
    caFile: options.tls ? path.join(dir, 'cert.pem') : null,
    received,
    get refusals() {
      return refusals;
    },
    url(credentials) {
      const auth = credentials
        ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@`
        : '';
      return `${options.implicitTls ? 'smtps' : 'smtp'}://${auth}127.0.0.1:${port}`;
    },
    refuse(count) {
      toRefuse = count;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          cleanup();
          resolve(received.slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${received.length} of ${count} mails arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What registration with an email sends first (src/mail/templates.ts, email-verification). */
export const VERIFICATION_SUBJECT = /Confirm your email address/;

/**
 * Waits (polling, with a deadline) until at least `count` mails to `address` arrived, and gives
 * them all. `except` leaves mails out by subject: tests about notices or resets skip the
 * verification mail a registration with an email sends.
 */
export async function mailsTo(
  smtp: TestSmtpServer,
  address: string,
  count = 1,
  options: { timeoutMs?: number; except?: RegExp } = {},
): Promise<ReceivedMail[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const got = smtp.received.filter(
      (m) => m.to.includes(address) && !(options.except?.test(m.mail.subject ?? '') ?? false),
    );
    if (got.length >= count) return got;
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${count} mail(s) to ${address} arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
