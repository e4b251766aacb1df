import { hasRole, knownRole, type Role } from '../core/roles.js';
import { GatekeeperError } from '../errors.js';
import { sendAuthError } from './respond.js';
import type { Middleware } from './types.js';

export { hasRole };

/**
 * Express/Connect middleware after requireAuth(): lets the request on when `req.user.role` is
 * `minimum` or higher (admin > regular > guest), else answers 403 FORBIDDEN. Without `req.user`
 * (requireAuth() missing before it) it answers 401 NOT_AUTHENTICATED: it never lets a request through.
 *
 * @throws TypeError at setup for a role that does not exist.
 * @example
 * app.get('/reports', requireAuth(verifier), requireRole('regular'), listReports);
 */
export function requireRole(minimum: Role): Middleware {
  knownRole(minimum);
  return (req, res, next) => {
    const user = req.user;
    if (user === undefined) {
      sendAuthError(res, new GatekeeperError('NOT_AUTHENTICATED', 'Not authenticated.'));
    } else if (!hasRole(user.role, minimum)) {
      sendAuthError(res, new GatekeeperError('FORBIDDEN', `This needs the ${minimum} role.`));
    } else {
      next();
    }
  };
}
