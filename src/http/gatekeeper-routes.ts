/**
 * The contract's /auth routes as one encapsulated Fastify plugin, with everything
 * they need of their own: the error handler (the contract's error bodies), the
 * not-found answer under the prefix, the 64 KiB body limit, JSON only (plus the
 * OAuth2 form where the contract allows it) and the no-store security headers.
 * Gatekeeper's own app (src/http/app.ts) registers it at /auth; a host app registers
 * it through the public plugin (src/http/fastify-plugin.ts) at the prefix it chooses.
 */
import { parse as parseQueryString } from 'node:querystring';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthService } from '../auth/auth-service.js';
import { GatekeeperError } from '../errors.js';
import { answerErrorsAsContract } from './error-handler.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { emailVerificationRoutes } from './routes/email-verification.js';
import { mfaRoutes } from './routes/mfa.js';
import { passwordResetRoutes } from './routes/password-reset.js';
import { clientRoutes } from './routes/clients.js';
import { introspectRoutes } from './routes/introspect.js';
import { sessionRoutes } from './routes/sessions.js';
import { userRoutes } from './routes/users.js';
import { authHeaders } from './security-headers.js';
import { addRequestDeadline } from './request-deadline.js';

export interface GatekeeperRoutesOptions {
  service: AuthService;
  /** Set the /auth security headers on every response (default true); false where the app's own hook does. */
  securityHeaders?: boolean;
  /**
   * The name of the bearer security scheme in the OpenAPI document the routes end up in (default
   * `bearerAuth`, Gatekeeper's own); null: the routes name none (a host document that declares none).
   */
  securityScheme?: string | null;
  /**
   * GATEKEEPER_REQUEST_DEADLINE_SECONDS: a route's handling past this is answered 503 with Retry-After
   * (./request-deadline.ts); absent: none of its own (Gatekeeper's app sets one for all its routes).
   */
  requestDeadlineSeconds?: number;
}

/** docs/API.md: request bodies over 64 KiB are 413, whatever the host app allows elsewhere. */
export const BODY_LIMIT = 64 * 1024;
const FORM = 'application/x-www-form-urlencoded';
/** Routes (relative to the prefix) that take the OAuth2 form as well as JSON (RFC 7662 introspection is a form POST). */
const FORM_ROUTES: ReadonlySet<string> = new Set(['/login', '/introspect']);

export const gatekeeperRoutes: FastifyPluginAsyncTypebox<GatekeeperRoutesOptions> = async (
  app,
  { service, securityHeaders = true, securityScheme = 'bearerAuth', requestDeadlineSeconds },
) => {
  const prefix = app.prefix;
  app.decorateRequest('principal', null);
  answerErrorsAsContract(app);
  if (requestDeadlineSeconds !== undefined) addRequestDeadline(app, requestDeadlineSeconds);
  // Every route here keeps the contract's body limit, even in a host app with a larger one.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= BODY_LIMIT;
    // @fastify/swagger fails on a security requirement whose scheme its document does not declare.
    const schema = route.schema as { security?: Record<string, string[]>[] } | undefined;
    if (schema?.security && securityScheme !== 'bearerAuth') {
      if (securityScheme === null) delete schema.security;
      else schema.security = [{ [securityScheme]: [] }];
    }
  });

  // JSON only, except the OAuth2 forms (password grant, introspection); text/plain would reach handlers as a string.
  // Checked in the form parser rather than a hook, so requests that send no form pay nothing for it.
  app.removeContentTypeParser('text/plain');
  const formUrls = new Set([...FORM_ROUTES].map((path) => prefix + path));
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    if (!formUrls.has(request.routeOptions.url ?? '')) {
      done(new GatekeeperError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json.'));
      return;
    }
    done(null, { ...parseQueryString(body as string) });
  });

  // Set before the handler runs, so error responses carry them too. A callback hook: an async
  // hook costs a promise per request and this does no I/O.
  if (securityHeaders) {
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(authHeaders(request.protocol === 'https'));
      done();
    });
  }

  await app.register(authRoutes(service));
  await app.register(passwordResetRoutes(service));
  await app.register(emailVerificationRoutes(service));
  await app.register(sessionRoutes(service));
  await app.register(mfaRoutes(service));
  await app.register(userRoutes(service));
  await app.register(auditRoutes(service));
  await app.register(clientRoutes(service));
  await app.register(introspectRoutes(service));
};
