import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { REDACT_PATHS } from './http/app.js';

/** JSON logs on stdout with every secret-bearing field redacted. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
