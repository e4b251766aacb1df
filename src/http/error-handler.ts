import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatekeeperError, type ErrorCode, type FieldError } from '../errors.js';
import { REQUEST_DEADLINE_PASSED } from './request-deadline.js';

/** The one table from error code to HTTP status (docs/API.md). A new code is a compile error until it has a row. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  VALIDATION_ERROR: 422,
  INVALID_CREDENTIALS: 401,
  NOT_AUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  INVALID_REFRESH_TOKEN: 401,
  INVALID_PASSWORD: 400,
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  CROSS_SITE_REQUEST: 403,
  REGISTRATION_DISABLED: 403,
  USER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  EMAIL_NOT_VERIFIED: 403,
  EMAIL_ALREADY_VERIFIED: 409,
  LAST_ADMIN: 409,
  INSUFFICIENT_BALANCE: 409,
  INVALID_CLIENT: 401,
  CLIENT_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  CLIENT_ID_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_ATTEMPTS: 429,
  REAUTHENTICATION_REQUIRED: 403,
  // A wrong code from a signed-in user (confirm, disable) is a refused body, like INVALID_PASSWORD;
  // at the login's second step it is a failed authentication, like INVALID_CREDENTIALS.
  INVALID_CODE: 400,
  MFA_ALREADY_ENABLED: 409,
  MFA_NOT_ENABLED: 409,
  MFA_REQUIRED: 400,
  DATABASE_UNAVAILABLE: 503,
  OVERLOADED: 503,
  CONFIG_INVALID: 500,
  INTERNAL_ERROR: 500,
});

/** Codes that answer load or abuse as designed: logged without the error object (and its stack). */
const EXPECTED_REFUSALS: ReadonlySet<ErrorCode> = new Set(['OVERLOADED', 'TOO_MANY_ATTEMPTS']);

const DEADLINE_RETRY_AFTER_SECONDS = 2;

export interface ErrorBody {
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}

/** Turns anything thrown while handling a request into the docs/API.md error body; the only writer of error responses. */
export function toHttpError(error: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  if (error instanceof GatekeeperError) {
    const body: ErrorBody = { detail: error.message, code: error.code };
    if (error.errors) body.errors = error.errors;
    const retryAfter = error.retryAfterSeconds ?? (STATUS_BY_CODE[error.code] === 503 ? 5 : undefined);
    return { status: STATUS_BY_CODE[error.code], body, ...(retryAfter === undefined ? {} : { retryAfter }) };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) {
    const errors = fastifyError.validation.map((v) => ({
      field: fieldOf(v.instancePath, v.params, fastifyError.validationContext),
      message: v.message ?? 'is invalid',
    }));
    return {
      status: 422,
      body: {
        detail: `Invalid input: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
        code: 'VALIDATION_ERROR',
        errors,
      },
    };
  }
  if (fastifyError.code === REQUEST_DEADLINE_PASSED) {
    // GATEKEEPER_REQUEST_DEADLINE_SECONDS passed (./request-deadline.ts): the work may still finish,
    // but the client is answered now rather than left waiting on a lock or a silent connection.
    const detail = 'The request could not be handled in time; try again shortly.';
    return { status: 503, body: { detail, code: 'OVERLOADED' }, retryAfter: DEADLINE_RETRY_AFTER_SECONDS };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (body parsing, content type, size). Their messages are about the request only.
    const code: ErrorCode =
      status === 413
        ? 'PAYLOAD_TOO_LARGE'
        : status === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : status === 404
            ? 'NOT_FOUND'
            : 'BAD_REQUEST';
    return { status: STATUS_BY_CODE[code], body: { detail: clientMessage(code), code } };
  }
  return { status: 500, body: { detail: 'Internal server error.', code: 'INTERNAL_ERROR' } };
}

function clientMessage(code: ErrorCode): string {
  switch (code) {
    case 'PAYLOAD_TOO_LARGE':
      return 'The request body is too large (at most 64 KiB).';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'Unsupported content type; send application/json.';
    case 'NOT_FOUND':
      return 'Not found.';
    default:
      return 'The request is malformed.';
  }
}

function fieldOf(
  instancePath: string,
  params: Record<string, unknown> | undefined,
  context: string | undefined,
): string {
  const missing = params?.['missingProperty'] ?? params?.['additionalProperty'];
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = [path, typeof missing === 'string' ? missing : ''].filter(Boolean).join('.');
  return field || context || 'body';
}

/**
 * RFC 6749 §5.2's `error` for an answer of an OAuth endpoint (POST /auth/introspect):
 * a failed client authentication is invalid_client, anything the server could not do
 * is server_error or temporarily_unavailable, and every other refusal invalid_request.
 */
export function oauthErrorOf(status: number, code: ErrorCode): string {
  if (code === 'INVALID_CLIENT') return 'invalid_client';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

/** How an OAuth endpoint's errors differ: HTTP Basic is its challenge, and the body adds `error`/`error_description`. */
export interface OAuthErrorStyle {
  /** The `WWW-Authenticate` challenge of a 401, e.g. `Basic realm="gatekeeper"`. */
  challenge: string;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  oauth?: OAuthErrorStyle,
): FastifyReply {
  const { status, body, retryAfter } = toHttpError(error);
  if (body.code === 'INTERNAL_ERROR' && !(error instanceof GatekeeperError)) {
    request.log.error({ err: error }, 'unhandled error');
  } else if (EXPECTED_REFUSALS.has(body.code)) {
    // Refusing is the defence working, and a flood refuses thousands a second: one short line each
    // at most (the 429s are in the audit trail already), never a stack trace (issue: 2.2 MB in 8 s).
    if (status >= 500) request.log.warn({ code: body.code }, body.detail);
  } else if (status >= 500) {
    request.log.warn({ code: body.code, err: error }, body.detail);
  }
  if (status === 401) reply.header('WWW-Authenticate', oauth?.challenge ?? 'Bearer');
  if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
  if (body.code === 'INTERNAL_ERROR') body.detail = `Internal server error (request ${request.id}).`;
  // The troubleshooting line names hosts, users and databases: for operators (log, /health), not for clients.
  if (body.code === 'DATABASE_UNAVAILABLE') body.detail = 'The database is unavailable; try again shortly.';
  const sent = oauth ? { error: oauthErrorOf(status, body.code), error_description: body.detail, ...body } : body;
  reply.code(status).type('application/json; charset=utf-8').send(sent);
  // Past the deadline the handler is still running: its late answer is dropped, not sent or logged as a second reply.
  if ((error as Partial<FastifyError>).code === REQUEST_DEADLINE_PASSED) reply.hijack();
  return reply;
}

/**
 * The contract's answers for everything a route plugin throws and for unknown paths under it,
 * for Gatekeeper's own app and for the /auth routes wherever a host app mounts them.
 */
export function answerErrorsAsContract(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new GatekeeperError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}
