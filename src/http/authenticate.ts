import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasAdminAuthority, userActor, type UserActor } from '../auth/actor.js';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { GatekeeperError } from '../errors.js';
import { accessCookie, checkSameSite } from './browser-session.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/** Reads `Authorization: Bearer <token>`; the token never goes anywhere but the verifier. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    throw new GatekeeperError(
      'NOT_AUTHENTICATED',
      'Not authenticated: send an Authorization: Bearer <access token> header.',
    );
  }
  const match = BEARER.exec(header);
  if (!match) throw new GatekeeperError('INVALID_TOKEN', 'The Authorization header must be "Bearer <access token>".');
  return match[1]!;
}

/**
 * The route's caller from `Authorization: Bearer`, or, without that header, from the pages' session
 * cookie (src/http/browser-session.ts), which must pass the CSRF check first.
 */
export function requireUser(service: AuthService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization === undefined) {
      const cookieToken = accessCookie(request);
      if (cookieToken !== null) {
        checkSameSite(request);
        request.principal = await service.authenticate(cookieToken);
        return;
      }
    }
    request.principal = await service.authenticate(bearerToken(request));
  };
}

export function requireAdmin(service: AuthService) {
  const authenticate = requireUser(service);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await authenticate(request, reply);
    if (!request.principal || !hasAdminAuthority(actorOf(request.principal))) {
      throw new GatekeeperError('FORBIDDEN', 'This needs the admin role.');
    }
  };
}

/** The principal set by requireUser/requireAdmin; a programming error if the route forgot the hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TypeError('route is missing its authentication hook');
  return request.principal;
}

/** The signed-in user as the actor of a use case (role checks, the audit trail's `by`). */
export function actorOf(principal: Principal): UserActor {
  return userActor(principal.user);
}
