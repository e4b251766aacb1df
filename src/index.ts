/**
 * The package's main entry: Gatekeeper in your process (createGatekeeper), in your
 * Fastify app (the `gatekeeper` plugin), and the pieces other services use (the
 * token verifier, Express/Connect middleware, the typed HTTP client).
 *
 * Services that only verify tokens or call Gatekeeper over HTTP should import the
 * light entries instead, which load neither Fastify, pg nor Argon2:
 * `@reynard/gatekeeper/verifier`, `@reynard/gatekeeper/express`,
 * `@reynard/gatekeeper/client` (the client also runs in browsers).
 *
 * @example
 * import Fastify from 'fastify';
 * import { gatekeeper } from '@reynard/gatekeeper';
 *
 * const app = Fastify();
 * await app.register(gatekeeper, { prefix: '/auth', database: { memory: true } });
 * app.get('/hello', { preHandler: app.authenticate }, async (request) => ({ hello: request.user!.username }));
 * await app.listen({ port: 3000 });
 *
 * @module
 */

// Gatekeeper in your process.
export {
  createGatekeeper,
  type CreateGatekeeperOptions,
  type DatabaseOption,
  type Gatekeeper,
} from './compose/create-gatekeeper.js';
export {
  gatekeeper,
  type AuthenticatedUser,
  type AuthHook,
  type GatekeeperPluginOptions,
} from './compose/fastify-plugin.js';
export type { AuthService } from './auth/auth-service.js';
export type {
  AdminChanges,
  AuditQueryInput,
  NewAccount,
  Principal,
  ProfileChanges,
  TokenPair,
  UserListQuery,
} from './auth/types.js';
export type { Actor, OperatorActor, UserActor } from './auth/actor.js';
export { operatorActor, userActor } from './auth/actor.js';
export type { UserRecord } from './store/store.js';
export { ConfigError, loadConfig, type Config } from './config.js';
export type { DeliveryOutcome, Mailer, MailRequest } from './mail/mailer.js';
export type { MemoryOutbox, OutboxMail } from './mail/outbox.js';
export type { TemplateName } from './mail/templates.js';

// Errors, roles: shared by every part.
export { ERROR_CODES, GatekeeperError, isGatekeeperError, type ErrorCode, type FieldError } from './errors.js';
export { hasRole, ROLES, type Role } from './core/roles.js';
export { VERSION } from './version.js';

// Other services: verify tokens, guard Express routes, call the HTTP API.
export {
  bearerToken,
  createVerifier,
  type IntrospectionOptions,
  type KeySource,
  type VerifiedToken,
  type Verifier,
  type VerifierOptions,
} from './verifier/index.js';
export {
  requireAuth,
  requireRole,
  type AuthenticatedRequest,
  type AuthRequest,
  type AuthResponse,
  type Middleware,
  type Next,
  type RequireAuthOptions,
} from './express/index.js';
export {
  GatekeeperClient,
  GatekeeperClientError,
  type ClientErrorCode,
  type GatekeeperClientOptions,
} from './client/index.js';
/** The HTTP API's request and response bodies (snake_case, as on the wire). */
export type * as wire from './client/types.js';
