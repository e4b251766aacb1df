import { GatekeeperError } from '../errors.js';

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header, with the errors Gatekeeper itself gives
 * (src/http/authenticate.ts): NOT_AUTHENTICATED without a header, INVALID_TOKEN for another scheme
 * or more than one header.
 *
 * @example
 * const token = bearerToken(req.headers.authorization);
 */
export function bearerToken(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw new GatekeeperError(
      'NOT_AUTHENTICATED',
      'Not authenticated: send an Authorization: Bearer <access token> header.',
    );
  }
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw new GatekeeperError('INVALID_TOKEN', 'The Authorization header must be "Bearer <access token>".');
  return match[1]!;
}
