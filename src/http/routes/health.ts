import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import { GatekeeperError } from '../../errors.js';
import type { ServiceHealth } from '../../auth/auth-service.js';
import { checkOperationsAccess, type OperationsAccess } from '../operations-access.js';
import { HealthSchema, addSharedSchemas, errorResponses, jsonResponse, ref } from '../schemas.js';
import { toHealthResponse } from '../wire.js';

const NO_STORE = { 'Cache-Control': { type: 'string', description: 'Always `no-store`.' } } as const;
/** The token is optional: without GATEKEEPER_METRICS_TOKEN, a loopback listener serves everyone. */
const metricsToken: Array<Record<string, string[]>> = [{}, { metricsToken: [] }];

/** What the operations routes read; the store's health comes through the service (AuthService.health). */
export interface HealthDeps {
  health: () => Promise<ServiceHealth>;
  version: string;
  metrics: Registry;
  /** False once something the process cannot recover from by itself happened (an embedded database given up on). */
  alive: () => boolean;
  /** Who may read /metrics and /health's `database` part (GATEKEEPER_METRICS_TOKEN, the listen host). */
  access: OperationsAccess;
  /** The public JWKS, or null for HS256 (no public keys to publish). */
  jwks: () => Promise<{ keys: object[] } | null>;
}

/** GET /health, /health/live, /metrics and /.well-known/jwks.json. */
export function healthRoutes(deps: HealthDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    app.get(
      '/health',
      {
        schema: {
          operationId: 'getHealth',
          tags: ['operations'],
          summary: 'Service and database health (503 while the database is unreachable)',
          description:
            'The database part needs Authorization: Bearer <GATEKEEPER_METRICS_TOKEN> when that is set, and is withheld without it on a non-loopback address.',
          security: metricsToken,
          response: {
            200: jsonResponse('Healthy.', ref(HealthSchema), NO_STORE),
            503: jsonResponse('The database cannot be reached.', ref(HealthSchema), {
              ...NO_STORE,
              'Retry-After': { type: 'integer', description: 'Seconds to wait before asking again.' },
            }),
            ...errorResponses(500),
          },
        },
      },
      async (request, reply) => {
        const health = await deps.health();
        if (!health.reachable) reply.code(503).header('Retry-After', '5');
        const { database, ...status } = toHealthResponse(health, deps.version);
        const detailed = checkOperationsAccess(deps.access, request) === 'granted';
        return reply.header('Cache-Control', 'no-store').send(detailed ? { ...status, database } : status);
      },
    );

    app.get(
      '/health/live',
      {
        schema: {
          operationId: 'getLiveness',
          tags: ['operations'],
          summary: 'Liveness: 200 while the process serves requests; 503 once it needs a restart',
          response: {
            200: jsonResponse('The process serves requests.', Type.Object({ status: Type.Literal('ok') })),
            503: jsonResponse(
              'The process needs a restart (e.g. its embedded database was given up on).',
              Type.Object({ status: Type.Literal('unavailable') }),
              NO_STORE,
            ),
            ...errorResponses(500),
          },
        },
      },
      async (_request, reply) => {
        if (deps.alive()) return reply.send({ status: 'ok' as const });
        return reply
          .code(503)
          .header('Cache-Control', 'no-store')
          .send({ status: 'unavailable' as const });
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          operationId: 'getMetrics',
          tags: ['operations'],
          summary: 'Prometheus metrics (Authorization: Bearer <GATEKEEPER_METRICS_TOKEN> when that is set)',
          security: metricsToken,
          response: {
            200: {
              description: 'The Prometheus text exposition format (text/plain; version=0.0.4).',
              headers: NO_STORE,
              content: { 'text/plain': { schema: Type.String() } },
            },
            // 401: the token is set and missing or wrong; 403: no token set and not on a loopback address.
            ...errorResponses(401, 403),
          },
        },
      },
      async (request, reply) => {
        const verdict = checkOperationsAccess(deps.access, request);
        if (verdict === 'missing')
          throw new GatekeeperError('NOT_AUTHENTICATED', 'Send Authorization: Bearer <GATEKEEPER_METRICS_TOKEN>.');
        if (verdict === 'wrong') throw new GatekeeperError('INVALID_TOKEN', 'That is not the metrics token.');
        if (verdict === 'withheld')
          throw new GatekeeperError(
            'FORBIDDEN',
            'Metrics are withheld on a non-loopback address until GATEKEEPER_METRICS_TOKEN is set.',
          );
        return reply
          .header('Cache-Control', 'no-store')
          .type(deps.metrics.contentType)
          .send(await deps.metrics.metrics());
      },
    );

    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          operationId: 'getJwks',
          tags: ['operations'],
          summary: 'Public signing keys (asymmetric algorithms); 404 with HS256',
          response: {
            200: jsonResponse('The JSON Web Key Set.', Type.Object({ keys: Type.Array(Type.Unknown()) }), {
              'Cache-Control': { type: 'string', description: '`public, max-age=300`.' },
            }),
            ...errorResponses(404),
          },
        },
      },
      async (_request, reply) => {
        const jwks = await deps.jwks();
        if (jwks === null) throw new GatekeeperError('NOT_FOUND', 'No public keys: tokens are signed with HS256.');
        return reply.header('Cache-Control', 'public, max-age=300').send(jwks);
      },
    );
  };
}
