/**
 * Where mails go when no SMTP relay is configured (the zero-setup default): `.eml` files in a
 * folder under the data dir, which a newcomer opens to click the link, or, for the memory
 * backend, a list in the process that a test or the embedding app reads.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

/** One mail as the memory outbox keeps it: the envelope, the rendered parts and the raw message. */
export interface OutboxMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The RFC 5322 message, as an SMTP relay would have received it. */
  raw: string;
  at: Date;
}

/** nodemailer's stream transport builds the message without sending it anywhere. */
const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

export async function buildRawMessage(message: Mail.Options): Promise<Buffer> {
  const info = await builder.sendMail(message);
  return info.message as Buffer;
}

/** Writes each mail as `<time>-<random>.eml` in `dir` (created on first use); resolves with the path. */
export async function writeEml(dir: string, raw: Buffer): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
  // Owner-only: the mails hold one-time links.
  await writeFile(file, raw, { mode: 0o600 });
  return file;
}

/** The in-process outbox of the memory backend. */
export class MemoryOutbox {
  readonly mails: OutboxMail[] = [];

  /** The mails sent to `address`, oldest first. */
  to(address: string): OutboxMail[] {
    return this.mails.filter((m) => m.to.toLowerCase() === address.toLowerCase());
  }

  clear(): void {
    this.mails.length = 0;
  }
}
