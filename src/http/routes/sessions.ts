import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AuthService, RequestContext } from '../../auth/auth-service.js';
import { principalOf, requireUser } from '../authenticate.js';
import { SessionIdParams, SessionListSchema } from '../session-schemas.js';
import { MessageSchema, STORE, addSharedSchemas, errorResponses, jsonResponse, ref } from '../schemas.js';
import { toSessionResponse } from '../wire.js';

const bearer = [{ bearerAuth: [] }];

/** Where the request comes from, as a session records it. */
export function sessionContextOf(request: FastifyRequest): RequestContext {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

/** A signed-in user's own sessions under /auth (the admin's view is in users.ts). */
export function sessionRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    app.addHook('preValidation', requireUser(service));

    app.get(
      '/sessions',
      {
        schema: {
          operationId: 'listSessions',
          tags: ['auth'],
          summary: 'Your live login sessions, oldest first; `current` marks the one of this token',
          security: bearer,
          response: {
            200: jsonResponse('Your live sessions.', SessionListSchema),
            ...errorResponses(401, ...STORE),
          },
        },
      },
      async (request) => (await service.listSessions(principalOf(request))).map(toSessionResponse),
    );

    app.delete(
      '/sessions',
      {
        schema: {
          operationId: 'revokeAllSessions',
          tags: ['auth'],
          summary: 'Sign out everywhere: end all your sessions, this one included, on every instance at once',
          security: bearer,
          response: {
            200: jsonResponse('Every session has ended.', ref(MessageSchema)),
            ...errorResponses(401, ...STORE),
          },
        },
      },
      async (request) => {
        const count = await service.revokeAllSessions(principalOf(request), { ip: request.ip });
        return { message: `Signed out everywhere: ${count} session${count === 1 ? '' : 's'} ended.` };
      },
    );

    app.delete(
      '/sessions/:id',
      {
        schema: {
          operationId: 'revokeSession',
          tags: ['auth'],
          summary: 'End one of your sessions: its tokens stop working on every instance at once',
          security: bearer,
          params: SessionIdParams,
          response: {
            200: jsonResponse('The session has ended.', ref(MessageSchema)),
            ...errorResponses(401, 404, 422, ...STORE),
          },
        },
      },
      async (request) => {
        await service.revokeSession(principalOf(request), request.params.id, { ip: request.ip });
        return { message: 'Session ended.' };
      },
    );
  };
}
