/**
 * Gatekeeper inside your own Fastify 5 app:
 *
 *   await app.register(gatekeeper, { prefix: '/auth', database: process.env.DATABASE_URL });
 *   app.get('/reports', { preHandler: app.requireRole('admin') }, async (request) => request.user);
 *
 * mounts the contract's /auth routes at `prefix` (default /auth) and gives the host
 * `app.authenticate` and `app.requireRole(role)` for its own routes: they answer
 * 401 / 403 with the contract's error bodies themselves, so the host's error
 * handler never sees them (it would answer 500). The host's @fastify/swagger, if
 * registered first, documents the auth routes too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { AuthService } from '../auth/auth-service.js';
import { hasRole, knownRole, type Role } from '../core/roles.js';
import type { Config } from '../config.js';
import { GatekeeperError } from '../errors.js';
import { bearerToken } from '../http/authenticate.js';
import { sendError } from '../http/error-handler.js';
import { gatekeeperRoutes } from '../http/gatekeeper-routes.js';
import { addSharedSchemas } from '../http/schemas.js';
import type { UserRecord } from '../store/store.js';
import { createGatekeeper, type CreateGatekeeperOptions } from './create-gatekeeper.js';

/** The signed-in user as the host's routes see it: the account without its password hash. */
export type AuthenticatedUser = Omit<UserRecord, 'passwordHash'>;

/** A preHandler that lets the request on, or answers 401/403 itself and returns the sent reply. */
export type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: verifies `Authorization: Bearer <access token>` and sets `request.user`, else 401. */
    authenticate: AuthHook;
    /** preHandler: as `authenticate`, then 403 unless the user's role is `role` or above (admin > regular > guest). */
    requireRole(role: Role): AuthHook;
  }
  interface FastifyRequest {
    /** Set by `app.authenticate` / `app.requireRole`; null before (and on routes without them). */
    user: AuthenticatedUser | null;
  }
}

export interface GatekeeperPluginOptions extends CreateGatekeeperOptions {
  /** Where the contract's routes go (`${prefix}/login`, `${prefix}/me`…); default /auth. */
  prefix?: string;
  /**
   * A Gatekeeper you created (createGatekeeper) and close yourself. Absent: the plugin creates
   * one from the other options (env, database, logger) and closes it when the host app closes.
   */
  gatekeeper?: { service: AuthService; config?: Pick<Config, 'requestDeadlineSeconds'> };
  /**
   * For a host that documents its API with @fastify/swagger: the name of a bearer scheme its
   * `components.securitySchemes` declares, which the authenticated routes then require. Absent:
   * the routes name no scheme (swagger refuses a scheme its document does not declare).
   */
  securityScheme?: string;
}

async function plugin(host: FastifyInstance, options: GatekeeperPluginOptions): Promise<void> {
  const { prefix = '/auth', gatekeeper: given, securityScheme, ...createOptions } = options;
  const owned = given ? null : await createGatekeeper(createOptions);
  if (owned) host.addHook('onClose', () => owned.close());
  const service = given?.service ?? owned!.service;

  // Component schemas the routes $ref, where the host's swagger can see them.
  addSharedSchemas(host);
  if (!host.hasRequestDecorator('user')) host.decorateRequest('user', null);

  const authenticate: AuthHook = async (request, reply) => {
    try {
      const { user } = await service.authenticate(bearerToken(request));
      const { passwordHash: _hash, ...visible } = user;
      request.user = visible;
      return undefined;
    } catch (err) {
      // Returning the sent reply tells Fastify to stop here (a thrown error would reach the host's handler).
      return sendError(request, reply, err);
    }
  };
  host.decorate('authenticate', authenticate);
  host.decorate('requireRole', (role: Role): AuthHook => {
    knownRole(role);
    return async (request, reply) => {
      const refused = await authenticate(request, reply);
      if (refused) return refused;
      if (hasRole(request.user!.role, role)) return undefined;
      return sendError(request, reply, new GatekeeperError('FORBIDDEN', `This needs the ${role} role.`));
    };
  });

  // The deadline of the Gatekeeper the routes run on (a given one without its config: none of ours).
  const requestDeadlineSeconds = (owned?.config ?? given?.config)?.requestDeadlineSeconds;
  await host.register(gatekeeperRoutes, {
    prefix,
    service,
    securityScheme: securityScheme ?? null,
    requestDeadlineSeconds,
  });
}

/** The Fastify plugin (fastify-plugin: the decorators land on the app that registers it). */
export const gatekeeper = fastifyPlugin(plugin, { fastify: '5.x', name: 'gatekeeper' });
