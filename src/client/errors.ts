import type { ErrorCode, FieldError } from '../errors.js';

/**
 * Codes a GatekeeperClientError can carry: the server's (docs/errors.md) and two of the client's
 * own: NETWORK_ERROR (no answer: refused, offline, aborted; `status` 0) and UNEXPECTED_RESPONSE
 * (an answer that is not Gatekeeper's JSON, e.g. a proxy's HTML page). A newer server may send
 * codes this version does not list, hence the open string.
 */
export type ClientErrorCode = ErrorCode | 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE' | (string & {});

export interface ClientErrorInit {
  status: number;
  code: ClientErrorCode;
  detail: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * Every failure of a GatekeeperClient call: the error body of docs/API.md with its HTTP status,
 * never a bare Response. `message` is `detail`.
 *
 * @example
 * try {
 *   await client.login({ username, password });
 * } catch (err) {
 *   if (err instanceof GatekeeperClientError && err.code === 'TOO_MANY_ATTEMPTS') wait(err.retryAfterSeconds);
 * }
 */
export class GatekeeperClientError extends Error {
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly detail: string;
  /** Per-field problems of a VALIDATION_ERROR. */
  readonly errors: FieldError[] | undefined;
  /** From `Retry-After` (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ClientErrorInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatekeeperClientError';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.errors = init.errors;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** The error a non-2xx response stands for. */
export async function errorFromResponse(response: Response): Promise<GatekeeperClientError> {
  const retryAfter = Number(response.headers.get('retry-after') ?? '');
  const retryAfterSeconds = Number.isInteger(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    body = undefined;
  }
  const { detail, code, errors } = (body ?? {}) as Partial<Record<string, unknown>>;
  if (typeof detail !== 'string' || typeof code !== 'string') {
    return new GatekeeperClientError({
      status: response.status,
      code: 'UNEXPECTED_RESPONSE',
      detail: `Gatekeeper answered ${response.status} without an error body.`,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  return new GatekeeperClientError({
    status: response.status,
    code,
    detail,
    ...(Array.isArray(errors) ? { errors: errors as FieldError[] } : {}),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}
