/**
 * The one error family of Gatekeeper. A `code` is public API (clients switch on it)
 * and is never renamed; the HTTP status for each code lives in exactly one place,
 * src/http/error-handler.ts. Nothing here knows about HTTP.
 */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'INVALID_CREDENTIALS',
  'NOT_AUTHENTICATED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'INVALID_REFRESH_TOKEN',
  'INVALID_PASSWORD',
  'BAD_REQUEST',
  'FORBIDDEN',
  'CROSS_SITE_REQUEST',
  'REGISTRATION_DISABLED',
  'USER_NOT_FOUND',
  'NOT_FOUND',
  'USERNAME_TAKEN',
  'EMAIL_TAKEN',
  'EMAIL_NOT_VERIFIED',
  'EMAIL_ALREADY_VERIFIED',
  'LAST_ADMIN',
  'INSUFFICIENT_BALANCE',
  'INVALID_CLIENT',
  'CLIENT_NOT_FOUND',
  'CLIENT_ID_TAKEN',
  'SESSION_NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'TOO_MANY_ATTEMPTS',
  'REAUTHENTICATION_REQUIRED',
  'INVALID_CODE',
  'MFA_ALREADY_ENABLED',
  'MFA_NOT_ENABLED',
  'MFA_REQUIRED',
  'DATABASE_UNAVAILABLE',
  'OVERLOADED',
  'CONFIG_INVALID',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  field: string;
  message: string;
}

export interface GatekeeperErrorOptions extends ErrorOptions {
  /** Per-field problems, for VALIDATION_ERROR. */
  errors?: FieldError[];
  /** Seconds a client should wait, for TOO_MANY_ATTEMPTS / DATABASE_UNAVAILABLE / OVERLOADED. */
  retryAfterSeconds?: number;
}

/**
 * An expected failure with a stable machine code and one human sentence.
 * The message is shown to clients: it must never contain a secret.
 *
 * @example
 * throw new GatekeeperError('USERNAME_TAKEN', 'That username is already registered.');
 */
export class GatekeeperError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: GatekeeperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatekeeperError';
    this.code = code;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isGatekeeperError(value: unknown, code?: ErrorCode): value is GatekeeperError {
  return value instanceof GatekeeperError && (code === undefined || value.code === code);
}

/** A VALIDATION_ERROR for one field. */
export function invalidField(field: string, message: string): GatekeeperError {
  return new GatekeeperError('VALIDATION_ERROR', message, { errors: [{ field, message }] });
}
