/**
 * Reads the credentials an OAuth client presents (RFC 6749 §2.3.1): HTTP Basic, whose
 * user and password are the client id and secret *form-urlencoded* before they are
 * joined and base64-encoded, or `client_id` and `client_secret` in the form body
 * (client_secret_post). Neither value is ever logged or echoed.
 */
import type { ClientCredentials } from '../auth/auth-service.js';
import { GatekeeperError } from '../errors.js';

const BASIC = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i;
const SCHEME = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)/;

/**
 * The credentials of the request, or null when it has none (or an unreadable Basic header:
 * both are a failed client authentication for the caller to count and refuse).
 * @throws BAD_REQUEST when the request uses both methods (RFC 6749 §2.3: at most one).
 * @example clientCredentialsOf(request.headers.authorization, request.body)
 */
export function clientCredentialsOf(
  authorization: string | undefined,
  body: { client_id?: string | undefined; client_secret?: string | undefined },
): ClientCredentials | null {
  const isBasic = authorization !== undefined && SCHEME.exec(authorization)?.[1]?.toLowerCase() === 'basic';
  // RFC 6749 §3.1: a parameter sent without a value is treated as if it were omitted.
  const clientId = body.client_id || undefined;
  const clientSecret = body.client_secret || undefined;
  if (isBasic && (clientId !== undefined || clientSecret !== undefined)) {
    throw new GatekeeperError('BAD_REQUEST', 'Use one client authentication method: HTTP Basic or the form, not both.');
  }
  if (isBasic) return basicCredentials(authorization);
  if (clientId !== undefined) return { clientId, clientSecret: clientSecret ?? '' };
  return null;
}

function basicCredentials(header: string): ClientCredentials | null {
  const match = BASIC.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null || clientId === '') return null;
  return { clientId, clientSecret };
}

/** application/x-www-form-urlencoded decoding of one value: `+` is a space, then percent-decoding. */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return null; // a malformed %-escape
  }
}
