/**
 * The OpenAPI document served at /openapi.json (@fastify/swagger's options). Clients are
 * generated from it, so it has to say what the server really does: the route modules
 * declare every status they answer (src/http/schemas.ts, errorResponses), and this module
 * adds what the route schemas cannot say themselves:
 *
 * - the named schemas (`app.addSchema({ $id })`) become `#/components/schemas/<$id>`,
 *   instead of @fastify/swagger's default `def-N`;
 * - a query parameter with a default is optional (the validator fills it in), where the
 *   generated document would mark it required;
 * - a route marked `'x-body-optional': true` accepts a request without a body (POST /auth/logout).
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

/** Route schema key: the request body may be left out entirely. Removed from the served document. */
export const BODY_OPTIONAL = 'x-body-optional';

type Operation = {
  parameters?: Array<{ in?: string; required?: boolean; schema?: { default?: unknown } }>;
  requestBody?: { required?: boolean };
  [BODY_OPTIONAL]?: boolean;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Corrects each operation where the generated form differs from what the server accepts. */
function correctOperation(operation: Operation): void {
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'query' && parameter.schema?.default !== undefined) parameter.required = false;
  }
  if (operation[BODY_OPTIONAL] === true && operation.requestBody) operation.requestBody.required = false;
  delete operation[BODY_OPTIONAL];
}

/** @fastify/swagger's options for Gatekeeper's document (its version is the running version). */
export function openapiOptions(version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gatekeeper',
        version,
        description: 'Authentication service: Argon2id passwords, JWT access tokens, rotating refresh tokens.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          metricsToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'GATEKEEPER_METRICS_TOKEN, when it is set (/metrics and the database part of /health). Without it, served on a loopback address only.',
          },
        },
      },
      tags: [
        { name: 'auth', description: 'Register, log in, tokens, your own account' },
        { name: 'admin', description: 'User management (role admin)' },
        { name: 'mfa', description: 'Multi-factor authentication (TOTP) of your own account' },
        { name: 'operations', description: 'Health, metrics, keys' },
      ],
    },
    // Shared schemas are named by their $id (UserPublic, ErrorBody, ...), never def-N.
    refResolver: {
      buildLocalReference(json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' ? json.$id : `schema${i}`;
      },
    },
    transformObject(documentObject) {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const { openapiObject } = documentObject;
      const document = openapiObject as { paths?: Record<string, Partial<Record<string, Operation>>> };
      for (const path of Object.values(document.paths ?? {})) {
        for (const method of METHODS) {
          const operation = path[method];
          if (operation) correctOperation(operation);
        }
      }
      return openapiObject;
    },
  };
}
