/**
 * Express / Connect middleware on top of the verifier: `requireAuth()` puts the verified user on
 * `req.user`, `requireRole()` checks its rank. Express is not a dependency: the request,
 * response and `next` are typed by the little the middleware uses.
 *
 * @example
 * import express from 'express';
 * import { requireAuth, requireRole } from '@reynard/gatekeeper/express';
 *
 * const app = express();
 * const auth = requireAuth({ jwksUrl: 'https://auth.example.com/.well-known/jwks.json', audience: 'orders' });
 * app.get('/me', auth, (req, res) => res.json(req.user));
 * app.get('/admin/report', auth, requireRole('admin'), (req, res) => res.json({ ok: true }));
 *
 * @module
 */
export { requireAuth, type RequireAuthOptions } from './require-auth.js';
export { hasRole, requireRole } from './require-role.js';
export type { AuthRequest, AuthResponse, AuthenticatedRequest, Middleware, Next } from './types.js';
