import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/auth-service.js';
import { GatekeeperError } from '../errors.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import { installCors } from './cors.js';
import { sendError } from './error-handler.js';
import { installMetrics } from './metrics.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';
import { AuditEventSchema, ErrorBodySchema, TokenResponseSchema, UserPublicSchema } from './schemas.js';

export interface AppDeps {
  service: AuthService;
  hasher: PasswordHasher;
  version: string;
  /** A pino logger (see createLogger) or false for none. */
  logger?: FastifyBaseLogger | false;
  trustProxy?: boolean;
  requestTimeoutSeconds?: number;
  /** GATEKEEPER_CORS_ORIGINS; empty or absent: CORS off. */
  corsOrigins?: readonly string[];
  jwks?: () => Promise<{ keys: object[] } | null>;
}

const BODY_LIMIT = 64 * 1024;
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Pino redaction paths: no password, token, hash or Authorization header reaches a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.password_hash',
  '*.passwordHash',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.secretKey',
  // OAuth2 password-grant form field (POST /auth/login accepts it and ignores it).
  '*.client_secret',
  // Signing keys (issue 5): the private half, in either spelling, and the whole stored record.
  '*.privateJwk',
  '*.private_jwk',
  '*.privateKey',
  '*.refreshTokenHash',
  '*.token_hash',
];

/**
 * Builds the Fastify app with every route of API.md. It never listens: main.ts does,
 * and tests use inject().
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger === false || deps.logger === undefined ? undefined : deps.logger,
    // One line per request (written in onResponse below) instead of Fastify's two: half the logging cost.
    logController: new LogController({ disableRequestLogging: true }),
    logger: deps.logger === false || deps.logger === undefined ? false : undefined,
    bodyLimit: BODY_LIMIT,
    trustProxy: deps.trustProxy ?? false,
    requestTimeout: (deps.requestTimeoutSeconds ?? 30) * 1000,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // Oversized path parameters are refused before routing.
    routerOptions: { maxParamLength: 300 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', null);
  app.addHook('onResponse', async (request, reply) => {
    // The path and status only: no headers (tokens) and no body (passwords) ever reach this line.
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new GatekeeperError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  // JSON only, except the OAuth2 password grant on /auth/login; text/plain would reach handlers as a string.
  app.removeContentTypeParser('text/plain');
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  app.addHook('preValidation', async (request) => {
    const type = request.headers['content-type'] ?? '';
    if (type.startsWith('application/x-www-form-urlencoded') && request.routeOptions.url !== '/auth/login') {
      throw new GatekeeperError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json.');
    }
  });

  installCors(app, deps.corsOrigins ?? []);
  await app.register(helmet, {
    // The interactive docs need scripts and styles; every other response is JSON and gets a locked-down CSP below.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    // Headers that only mean something for HTML documents: a JSON API pays for them on every response
    // (each is a middleware call and ~40 bytes) and gains nothing.
    dnsPrefetchControl: false,
    ieNoOpen: false,
    originAgentCluster: false,
    permittedCrossDomainPolicies: false,
    xssFilter: false,
  });
  // Set before the handler runs (cheaper than an onSend hook, and kept on error responses too).
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/auth/')) {
      reply.header('Content-Security-Policy', JSON_CSP).header('Cache-Control', 'no-store');
    } else if (!request.url.startsWith('/docs')) {
      reply.header('Content-Security-Policy', JSON_CSP);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gatekeeper',
        version: deps.version,
        description: 'Authentication service: Argon2id passwords, JWT access tokens, rotating refresh tokens.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'auth', description: 'Register, log in, tokens, your own account' },
        { name: 'admin', description: 'User management (role admin)' },
        { name: 'operations', description: 'Health, metrics, keys' },
      ],
    },
  });
  app.addSchema(ErrorBodySchema);
  app.addSchema(UserPublicSchema);
  app.addSchema(TokenResponseSchema);
  app.addSchema(AuditEventSchema);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const metrics = installMetrics(app, { store: deps.service.store, hashQueue: deps.hasher.queue });
  await app.register(authRoutes(deps.service));
  await app.register(userRoutes(deps.service));
  await app.register(auditRoutes(deps.service));
  await app.register(
    healthRoutes({
      store: deps.service.store,
      version: deps.version,
      metrics,
      jwks: deps.jwks ?? (async () => null),
    }),
  );
  return app;
}
