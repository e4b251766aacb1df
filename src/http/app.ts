import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/auth-service.js';
import { lazyChildLogger, unredactedLogger } from '../logger.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { MailFigures } from '../mail/mailer.js';
import type { TrustProxy } from '../core/client-address.js';
import { installClientAddress, proxyTrust } from './client-address.js';
import { answerClientError } from './client-errors.js';
import { installCors } from './cors.js';
import { answerErrorsAsContract } from './error-handler.js';
import { BODY_LIMIT, gatekeeperRoutes } from './gatekeeper-routes.js';
import { createMetrics } from './metrics.js';
import { openapiOptions } from './openapi.js';
import { operationsAccess } from './operations-access.js';
import { healthRoutes } from './routes/health.js';
import { addSharedSchemas } from './schemas.js';
import { browserSessionRoutes } from './routes/browser-session.js';
import { registerUiPages } from './routes/ui-pages.js';
import type { UiSettings } from '../ui/page.js';
import { securityHeadersFor } from './security-headers.js';
import { addRequestDeadline } from './request-deadline.js';

export interface AppDeps {
  service: AuthService;
  hasher: PasswordHasher;
  version: string;
  /** A pino logger (see createLogger) or false for none. */
  logger?: FastifyBaseLogger | false;
  /** GATEKEEPER_ACCESS_LOG: one info line per request. */
  accessLog?: boolean;
  /** GATEKEEPER_TRUST_PROXY: false, a hop count, or trusted proxy addresses/CIDRs (src/http/client-address.ts). */
  trustProxy?: TrustProxy;
  requestTimeoutSeconds?: number;
  /** GATEKEEPER_REQUEST_DEADLINE_SECONDS: handling past this is answered 503 + Retry-After; absent: 10. */
  requestDeadlineSeconds?: number;
  /** GATEKEEPER_HEALTH_TIMEOUT_SECONDS: /health reports the database unreachable past this; absent: 2. */
  healthTimeoutSeconds?: number;
  /** GATEKEEPER_CORS_ORIGINS; empty or absent: CORS off. */
  corsOrigins?: readonly string[];
  jwks?: () => Promise<{ keys: object[] } | null>;
  /** GATEKEEPER_METRICS_TOKEN: the bearer token for /metrics and /health's database part; null or absent: none. */
  metricsToken?: string | null;
  /**
   * The address main.ts listens on (HOST). Without a metrics token, /metrics and /health's database
   * part are served only when it is a loopback address. Absent: 127.0.0.1 (in-process use, tests).
   */
  listenHost?: string;
  /** Liveness beyond "the process answers": false makes /health/live 503 (a database given up on). */
  alive?: () => boolean;
  /** Mails sent and given up so far (gatekeeper_mails_sent_total, gatekeeper_mail_send_failures_total). */
  mailFigures?: () => MailFigures;
  /** The pages for people and their cookie session (GATEKEEPER_UI); absent or false: none. */
  ui?: UiSettings | false;
}

/**
 * Builds the Fastify app with every route of docs/API.md. It never listens: main.ts does,
 * and tests use inject().
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const logger = deps.logger === false || deps.logger === undefined ? undefined : deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    logger: logger ? undefined : false,
    // Per-request cost matters here (docs/BENCHMARKS.md): the request's child logger is made
    // only if something logs through it, and Fastify's two lines per request are one (below).
    childLoggerFactory: lazyChildLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: proxyTrust(deps.trustProxy ?? false),
    requestTimeout: (deps.requestTimeoutSeconds ?? 30) * 1000,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // What Node's parser refuses (bad request line, oversized headers) gets the API's error shape too.
    clientErrorHandler: answerClientError,
    // Oversized path parameters are refused before routing.
    routerOptions: { maxParamLength: 300 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  answerErrorsAsContract(app);
  // Receiving the request is bounded by requestTimeout above; this bounds handling it (a lock, a silent connection).
  addRequestDeadline(app, deps.requestDeadlineSeconds ?? 10);

  // JSON only (the /auth routes add the OAuth2 form where the contract allows it).
  app.removeContentTypeParser('text/plain');

  if (deps.trustProxy) installClientAddress(app);
  installCors(app, deps.corsOrigins ?? []);
  // Set before the handler runs, so error responses carry them too. Callback hooks: an async
  // hook costs a promise per request and these do no I/O.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(securityHeadersFor(request.url, request.protocol === 'https'));
    done();
  });
  const metrics = createMetrics({
    poolFigures: () => deps.service.poolFigures(),
    hashQueue: deps.hasher.queue,
    ...(deps.mailFigures ? { mailFigures: deps.mailFigures } : {}),
  });
  // GATEKEEPER_ACCESS_LOG: one line per request, the path and status only, never headers (tokens)
  // or a body (passwords). Off by default: it costs 9–18 % of a fast request's throughput
  // (docs/BENCHMARKS.md), and a reverse proxy in front usually keeps such a log already.
  const accessLog = logger && deps.accessLog ? unredactedLogger(logger) : undefined;
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request, reply);
    accessLog?.info(
      {
        reqId: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });

  await app.register(swagger, openapiOptions(deps.version));
  // At the root, so every route plugin (the /auth ones add them themselves too, for host apps) can $ref them.
  addSharedSchemas(app);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // The root hook above already sets the /auth header set: the routes' own hook is left out.
  await app.register(gatekeeperRoutes, { prefix: '/auth', service: deps.service, securityHeaders: false });
  if (deps.ui) {
    await app.register(browserSessionRoutes(deps.service), { prefix: '/auth' });
    registerUiPages(app, deps.ui);
  }
  await app.register(
    healthRoutes({
      health: () => deps.service.health({ timeoutMs: Math.round((deps.healthTimeoutSeconds ?? 2) * 1000) }),
      version: deps.version,
      metrics: metrics.registry,
      alive: deps.alive ?? (() => true),
      access: operationsAccess(deps.metricsToken ?? null, deps.listenHost ?? '127.0.0.1'),
      jwks: deps.jwks ?? (async () => null),
    }),
  );
  return app;
}
