/**
 * Sending the service's mails: rendered from MailTemplates, delivered over SMTP (nodemailer) or
 * into an outbox, from a small in-process queue with bounded retries, so that no HTTP answer
 * ever waits on a mail server or depends on it. Nothing logged here holds a body (one-time
 * links) or the relay's password.
 */
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Logger } from 'pino';
import { buildRawMessage, MemoryOutbox, writeEml } from './outbox.js';
import { redactSmtpUrl, scrub, secretsOf } from './redact.js';
import { MailTemplates, type TemplateName } from './templates.js';

export interface MailerOptions {
  /** GATEKEEPER_SMTP_URL (`smtp://user:pass@host:587`, `smtps://…:465`); null: the outbox. */
  smtpUrl: string | null;
  /** GATEKEEPER_SMTP_CA_FILE: a PEM file of CA certificates the relay's certificate may chain to. */
  smtpCaFile?: string | null;
  /** GATEKEEPER_MAIL_FROM. */
  from: string;
  /** GATEKEEPER_PUBLIC_URL: the base of every link. */
  publicUrl: string;
  /** GATEKEEPER_PRODUCT_NAME. */
  productName: string;
  /** GATEKEEPER_MAIL_TEMPLATES_DIR. */
  templatesDir?: string | null;
  /** Without SMTP: `.eml` files in this folder, or (null) the in-memory outbox. */
  outboxDir: string | null;
  log?: Logger;
  /** Attempts per mail (first one included); default 3. */
  attempts?: number;
  /** Waits before the 2nd, 3rd… attempt; default 2 s, then 10 s. */
  retryDelaysMs?: readonly number[];
  /** The longest one attempt (connect, TLS, auth, transfer) may take; default 20 s. */
  attemptTimeoutMs?: number;
  /** Mails waiting at most; past it a mail is dropped (and counted as failed). Default 1000. */
  maxQueued?: number;
}

/** A mail to send: a template, its values and one recipient. */
export interface MailRequest {
  to: string;
  template: TemplateName;
  values?: Record<string, string>;
}

/** How one delivery ended, in words for a log line or the CLI (no body, no password). */
export type DeliveryOutcome =
  | { ok: true; via: 'smtp'; accepted: string[]; rejected: string[]; response: string }
  | { ok: true; via: 'outbox'; file: string | null }
  | { ok: false; error: string };

export interface MailFigures {
  sent: number;
  failed: number;
}

const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000];

export class Mailer {
  /** The memory backend's outbox; null when mails go over SMTP or into files. */
  readonly outbox: MemoryOutbox | null;
  readonly figures: MailFigures = { sent: 0, failed: 0 };
  readonly #templates: MailTemplates;
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo> | null;
  readonly #secrets: string[];
  readonly #queue: MailRequest[] = [];
  #running: Promise<void> | null = null;
  #closed = false;
  #wake: (() => void) | null = null;
  readonly #attempts: number;
  readonly #retryDelaysMs: readonly number[];
  readonly #attemptTimeoutMs: number;
  readonly #maxQueued: number;

  constructor(private readonly options: MailerOptions) {
    this.#templates = new MailTemplates(options.productName, options.templatesDir ?? null);
    this.#secrets = secretsOf(options.smtpUrl);
    this.#attempts = options.attempts ?? 3;
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 20_000;
    this.#maxQueued = options.maxQueued ?? 1_000;
    this.outbox = options.smtpUrl === null && options.outboxDir === null ? new MemoryOutbox() : null;
    this.#transport = options.smtpUrl === null ? null : this.#smtpTransport(options.smtpUrl);
  }

  /** Where mails go, for the start line: the relay (password masked), the outbox folder, or memory. */
  get destination(): string {
    if (this.options.smtpUrl !== null) return redactSmtpUrl(this.options.smtpUrl);
    return this.options.outboxDir ?? 'the in-memory outbox';
  }

  /**
   * `pathAndFragment` on GATEKEEPER_PUBLIC_URL (a base with a path keeps it).
   * @example mailer.link('/reset-password#token=abc') // 'https://id.example.com/reset-password#token=abc'
   */
  link(pathAndFragment: string): string {
    return `${this.options.publicUrl.replace(/\/+$/, '')}/${pathAndFragment.replace(/^\/+/, '')}`;
  }

  /**
   * Queues a mail and returns at once; never throws (a full queue or a closed mailer drops
   * the mail, logs it and counts it as failed): a caller's answer never depends on mail.
   */
  send(request: MailRequest): void {
    if (this.#closed || this.#queue.length >= this.#maxQueued) {
      this.figures.failed += 1;
      this.options.log?.error(
        { template: request.template, queued: this.#queue.length },
        this.#closed ? 'mail dropped: the mailer is closed' : 'mail dropped: the mail queue is full',
      );
      return;
    }
    this.#queue.push(request);
    this.#running ??= this.#drain().finally(() => (this.#running = null));
  }

  /** Resolves once every queued mail was delivered or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** One attempt, now, without the queue or retries (`gatekeeper mail test`). */
  async sendNow(request: MailRequest): Promise<DeliveryOutcome> {
    return this.#attempt(request);
  }

  /**
   * Stops taking mails; waits up to `deadlineMs` for the queue to empty, then drops what is
   * left (counted as failed) and closes the SMTP connections.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    // A retry waiting out its backoff is cut short: closing is not a time to wait 10 s.
    this.#wake?.();
    await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    const dropped = this.#queue.splice(0);
    if (dropped.length > 0) {
      this.figures.failed += dropped.length;
      this.options.log?.warn({ dropped: dropped.length }, 'mails still queued at shutdown were dropped');
    }
    this.#transport?.close();
  }

  async #drain(): Promise<void> {
    for (let request = this.#queue.shift(); request; request = this.#queue.shift()) {
      await this.#deliverWithRetries(request);
    }
  }

  async #deliverWithRetries(request: MailRequest): Promise<void> {
    const log = this.options.log;
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#attempt(request);
      if (outcome.ok) {
        this.figures.sent += 1;
        if (outcome.via === 'outbox') {
          log?.info({ template: request.template, file: outcome.file ?? 'memory' }, 'mail written to the outbox');
        } else {
          log?.info({ template: request.template, response: outcome.response }, 'mail sent');
        }
        return;
      }
      if (attempt >= this.#attempts || this.#closed) {
        this.figures.failed += 1;
        log?.error({ template: request.template, attempts: attempt, error: outcome.error }, 'mail not sent');
        return;
      }
      log?.warn({ template: request.template, attempt, error: outcome.error }, 'mail attempt failed; retrying');
      await this.#pause(this.#retryDelaysMs[Math.min(attempt - 1, this.#retryDelaysMs.length - 1)] ?? 0);
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => (this.#wake = null));
  }

  async #attempt(request: MailRequest): Promise<DeliveryOutcome> {
    try {
      const rendered = this.#templates.render(request.template, request.values ?? {});
      const message = { from: this.options.from, to: request.to, ...rendered };
      if (this.#transport) {
        const info = await withDeadline(this.#transport.sendMail(message), this.#attemptTimeoutMs);
        const rejected = info.rejected.map(String);
        if (info.accepted.length === 0) return { ok: false, error: `every recipient was refused: ${info.response}` };
        return { ok: true, via: 'smtp', accepted: info.accepted.map(String), rejected, response: info.response };
      }
      const raw = await buildRawMessage(message);
      if (this.outbox) {
        this.outbox.mails.push({ ...message, raw: raw.toString('utf8'), at: new Date() });
        return { ok: true, via: 'outbox', file: null };
      }
      return { ok: true, via: 'outbox', file: await writeEml(this.options.outboxDir ?? '.', raw) };
    } catch (err) {
      return { ok: false, error: this.#describe(err) };
    }
  }

  /** One line naming what went wrong (refused connection, TLS, authentication…), password scrubbed. */
  #describe(err: unknown): string {
    const e = err as { message?: unknown; code?: unknown; responseCode?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
    return scrub(`${message.split('\n', 1)[0] ?? ''}${code}`, this.#secrets);
  }

  #smtpTransport(url: string): Transporter<SMTPTransport.SentMessageInfo> {
    const ca = this.options.smtpCaFile ? readFileSync(this.options.smtpCaFile, 'utf8') : undefined;
    const timeout = this.#attemptTimeoutMs;
    // nodemailer upgrades with STARTTLS whenever the server offers it (smtp://), and smtps:// is TLS
    // from the first byte. Its own logger stays off: it would print the AUTH exchange.
    return nodemailer.createTransport({
      url,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      logger: false,
      ...(ca ? { tls: { ca } } : {}),
    } as SMTPTransport.Options);
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the SMTP server within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
