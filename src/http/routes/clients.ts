import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AdminContext, AuthService } from '../../auth/auth-service.js';
import { actorOf, principalOf, requireAdmin } from '../authenticate.js';
import {
  ClientCreatedSchema,
  ClientIdParams,
  ClientSchema,
  ClientSecretSchema,
  CreateClientBody,
} from '../client-schemas.js';
import {
  ADMIN,
  BODY_PARSING,
  MessageSchema,
  STORE,
  errorResponses,
  jsonResponse,
  ref,
  type ErrorStatus,
} from '../schemas.js';
import { fromCreateClientBody, toClient, toClientWithSecret } from '../wire.js';

const bearer = [{ bearerAuth: [] }];
const adminErrors = (...statuses: ErrorStatus[]) => errorResponses(...ADMIN, ...statuses, ...STORE);

/** Who is acting and from where, for the audit trail. */
function contextOf(request: FastifyRequest): AdminContext {
  return { ip: request.ip, actor: actorOf(principalOf(request)) };
}

/** Admin-only OAuth client management under /auth (the services that may introspect tokens). */
export function clientRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Authenticate before validating, so that strangers learn nothing about the schemas.
    app.addHook('preValidation', requireAdmin(service));

    app.get(
      '/clients',
      {
        schema: {
          operationId: 'listClients',
          tags: ['admin'],
          summary: 'List OAuth clients in creation order (never their secrets)',
          security: bearer,
          response: {
            200: jsonResponse('Every registered client (never a secret).', Type.Array(ClientSchema)),
            ...adminErrors(),
          },
        },
      },
      async (request) => (await service.listClients(contextOf(request))).map(toClient),
    );

    app.post(
      '/clients',
      {
        schema: {
          operationId: 'createClient',
          tags: ['admin'],
          summary: 'Register an OAuth client; a confidential client’s secret is in this answer only',
          security: bearer,
          body: CreateClientBody,
          response: {
            201: jsonResponse('The client, with its secret (shown this once).', ClientCreatedSchema),
            ...adminErrors(...BODY_PARSING, 409, 422),
          },
        },
      },
      async (request, reply) => {
        const created = await service.createClient(fromCreateClientBody(request.body), contextOf(request));
        return reply.code(201).header('Cache-Control', 'no-store').send(toClientWithSecret(created));
      },
    );

    app.get(
      '/clients/:client_id',
      {
        schema: {
          operationId: 'getClient',
          tags: ['admin'],
          summary: 'One OAuth client (never its secret)',
          security: bearer,
          params: ClientIdParams,
          response: { 200: jsonResponse('The client (never its secret).', ClientSchema), ...adminErrors(404, 422) },
        },
      },
      async (request) => toClient(await service.getClient(request.params.client_id, contextOf(request))),
    );

    app.delete(
      '/clients/:client_id',
      {
        schema: {
          operationId: 'deleteClient',
          tags: ['admin'],
          summary: 'Delete an OAuth client; its secret stops working at once',
          security: bearer,
          params: ClientIdParams,
          response: { 200: jsonResponse('Deleted.', ref(MessageSchema)), ...adminErrors(...BODY_PARSING, 404, 422) },
        },
      },
      async (request) => {
        await service.deleteClient(request.params.client_id, contextOf(request));
        return { message: 'Client deleted.' };
      },
    );

    app.post(
      '/clients/:client_id/rotate-secret',
      {
        schema: {
          operationId: 'rotateClientSecret',
          tags: ['admin'],
          summary: 'Give a confidential client a new secret (in this answer only); the old one stops working',
          security: bearer,
          params: ClientIdParams,
          response: {
            200: jsonResponse('The new secret (shown this once); the old one stops working.', ClientSecretSchema),
            ...adminErrors(...BODY_PARSING, 404, 422),
          },
        },
      },
      async (request, reply) => {
        const rotated = await service.rotateClientSecret(request.params.client_id, contextOf(request));
        return reply.header('Cache-Control', 'no-store').send(toClientWithSecret(rotated));
      },
    );
  };
}
