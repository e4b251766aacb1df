/**
 * The configured Mailer: SMTP when GATEKEEPER_SMTP_URL is set; otherwise `.eml` files in
 * `<GATEKEEPER_DATA_DIR>/outbox`, or, for the memory backend (which keeps nothing on disk),
 * the in-process outbox.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import { Mailer, type MailerOptions } from '../mail/mailer.js';

/** @example const mailer = createMailer(loadConfig(), { log }); */
export function createMailer(config: Config, extra: Partial<MailerOptions> = {}): Mailer {
  return new Mailer({
    ...config.mail,
    outboxDir: config.backend === 'memory' ? null : path.join(config.dataDir, 'outbox'),
    ...extra,
  });
}
