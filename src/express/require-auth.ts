import { bearerToken, createVerifier } from '../verifier/index.js';
import type { KeySource, Verifier, VerifierOptions } from '../verifier/index.js';
import { sendAuthError } from './respond.js';
import type { Middleware } from './types.js';

/** A verifier made with createVerifier(), or what createVerifier() takes, in one object. */
export type RequireAuthOptions = Verifier | (KeySource & VerifierOptions);

/** The verifier the options stand for. */
export function verifierOf(options: RequireAuthOptions): Verifier {
  if ('verify' in options && typeof options.verify === 'function') return options;
  if ('jwksUrl' in options && 'secret' in options) throw new TypeError('give either jwksUrl or secret, not both');
  if ('jwksUrl' in options) {
    const { jwksUrl, cacheMaxAgeMs, cooldownMs, timeoutMs, ...rest } = options;
    return createVerifier({ jwksUrl, cacheMaxAgeMs, cooldownMs, timeoutMs }, rest);
  }
  if ('secret' in options) {
    const { secret, ...rest } = options;
    return createVerifier({ secret }, rest);
  }
  throw new TypeError('requireAuth needs a verifier, a jwksUrl or a secret');
}

/**
 * Express/Connect middleware: verifies `Authorization: Bearer <access token>` and puts the
 * claims on `req.user`. A missing, malformed, expired or revoked token is answered here with
 * 401, `WWW-Authenticate: Bearer` and the contract's `{detail, code}` (NOT_AUTHENTICATED,
 * INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED); keys or introspection out of reach give 503
 * DATABASE_UNAVAILABLE with `Retry-After`. A client's token never causes a 500.
 *
 * @throws TypeError at setup for unusable options.
 * @example
 * const auth = requireAuth({ jwksUrl: 'https://auth.example.com/.well-known/jwks.json', audience: 'orders' });
 * app.get('/orders', auth, (req, res) => res.json({ owner: req.user.sub }));
 * app.delete('/orders/:id', auth, requireRole('admin'), removeOrder);
 */
export function requireAuth(options: RequireAuthOptions): Middleware {
  const verifier = verifierOf(options);
  return async (req, res, next) => {
    let user;
    try {
      user = await verifier.verify(bearerToken(req.headers['authorization']));
    } catch (err) {
      if (!sendAuthError(res, err)) next(err);
      return;
    }
    req.user = user;
    next();
  };
}
