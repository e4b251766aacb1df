import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../auth/auth-service.js';
import { requireAdmin } from '../authenticate.js';
import {
  ADMIN,
  AuditEventSchema,
  AuditQuery,
  STORE,
  addSharedSchemas,
  errorResponses,
  jsonResponse,
  ref,
} from '../schemas.js';
import { fromAuditQuery, toAuditEvent } from '../wire.js';

/** GET /auth/audit: the audit trail for admins, newest first. */
export function auditRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    // Authenticate before validating, as for the other admin routes.
    app.addHook('preValidation', requireAdmin(service));

    app.get(
      '/audit',
      {
        schema: {
          operationId: 'listAuditEvents',
          tags: ['admin'],
          summary: 'The audit trail, newest first, filtered by user, event and time',
          security: [{ bearerAuth: [] }],
          querystring: AuditQuery,
          response: {
            200: jsonResponse('Events, newest first.', Type.Array(ref(AuditEventSchema))),
            ...errorResponses(...ADMIN, 422, ...STORE),
          },
        },
      },
      async (request) => (await service.listAuditEvents(fromAuditQuery(request.query))).map(toAuditEvent),
    );
  };
}
