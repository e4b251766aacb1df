/** `gatekeeper mail test --to` against a real SMTP server on loopback, and against the outbox. */
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatekeeper } from '../support/cli.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const PASSWORD = 'cli-relay-S3cret';
let dir: string;
let server: TestSmtpServer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-mail-cli-'));
  server = await startSmtpServer({ tls: true, auth: { user: 'ops', pass: PASSWORD } });
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const smtpEnv = (url: string) => ({
  GATEKEEPER_DATA_DIR: dir,
  GATEKEEPER_SMTP_URL: url,
  GATEKEEPER_SMTP_CA_FILE: server.caFile!,
  GATEKEEPER_PUBLIC_URL: 'https://id.example.test',
  GATEKEEPER_PRODUCT_NAME: 'Acme ID',
});

describe('gatekeeper mail test', { timeout: 30_000 }, () => {
  it('sends the test mail over SMTP (STARTTLS, AUTH) and reports the outcome in one line', async () => {
    const result = await runGatekeeper(['mail', 'test', '--to', 'ops@example.test'], {
      env: smtpEnv(server.url({ user: 'ops', pass: PASSWORD })),
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^sent via smtp:\/\/ops:\*\*\*@127\.0\.0\.1:\d+: accepted ops@example\.test; rejected none; server: 250 /,
    );
    const [got] = await server.waitFor(1);
    expect(got!.secure).toBe(true);
    expect(got!.mail.subject).toBe('Acme ID test mail');
    expect(got!.mail.text).toContain('https://id.example.test/');
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('exits 1 with the reason on an authentication failure or a refused connection, never the password', async () => {
    const auth = await runGatekeeper(['mail', 'test', '--to', 'ops@example.test'], {
      env: smtpEnv(server.url({ user: 'ops', pass: `${PASSWORD}-x` })),
    });
    expect(auth.code).toBe(1);
    expect(auth.stderr).toMatch(/^gatekeeper: mail not sent via smtp:\/\/ops:\*\*\*@.*(EAUTH|Invalid login)/);
    expect(auth.stdout + auth.stderr).not.toContain(PASSWORD);

    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const refused = await runGatekeeper(['mail', 'test', '--to', 'ops@example.test'], {
      env: smtpEnv(`smtp://ops:${PASSWORD}@127.0.0.1:${port}`),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ECONNREFUSED');
    expect(refused.stdout + refused.stderr).not.toContain(PASSWORD);
  });

  it('without SMTP writes the mail to the outbox and prints the file', async () => {
    const result = await runGatekeeper(['mail', 'test', '--to', 'ops@example.test'], {
      env: { GATEKEEPER_DATA_DIR: dir },
    });
    expect(result.code, result.stderr).toBe(0);
    const match = /^written to the outbox: (.+\.eml)$/.exec(result.stdout.trim());
    expect(match).not.toBeNull();
    const file = match![1]!;
    expect(path.dirname(file)).toBe(path.join(dir, 'outbox'));
    expect(existsSync(file)).toBe(true);
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.subject).toBe('Gatekeeper test mail');
  });

  it('--to is required', async () => {
    const result = await runGatekeeper(['mail', 'test'], { env: { GATEKEEPER_DATA_DIR: dir } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--to ADDRESS is required');
  });
});
