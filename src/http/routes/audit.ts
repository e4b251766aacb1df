import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../auth/auth-service.js';
import { invalidField } from '../../errors.js';
import { requireAdmin } from '../authenticate.js';
import { AuditEventSchema, AuditQuery, errorResponses } from '../schemas.js';
import type { AuditEventType } from '../../core/audit-events.js';

/** GET /auth/audit: the audit trail for admins, newest first. */
export function auditRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Authenticate before validating, as for the other admin routes.
    app.addHook('preValidation', requireAdmin(service));

    app.get(
      '/auth/audit',
      {
        schema: {
          tags: ['admin'],
          summary: 'The audit trail, newest first, filtered by user, event and time',
          security: [{ bearerAuth: [] }],
          querystring: AuditQuery,
          response: { 200: Type.Array(AuditEventSchema), ...errorResponses(401, 403, 422) },
        },
      },
      async (request) => {
        const { user, since, limit } = request.query;
        // Validated against the enum of AUDIT_EVENTS by the schema; the type provider only sees `unknown`.
        const event = request.query.event as AuditEventType | undefined;
        const sinceDate = since === undefined ? undefined : new Date(since);
        if (sinceDate !== undefined && Number.isNaN(sinceDate.getTime())) {
          throw invalidField('since', 'must be an ISO 8601 date-time');
        }
        const events = await service.listAuditEvents({ user, event, since: sinceDate, limit });
        return events.map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          event: e.event,
          username: e.username,
          user_id: e.userId,
          ip: e.ip,
          detail: e.detail,
        }));
      },
    );
  };
}
