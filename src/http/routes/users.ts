import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Actor, AuthService, RequestContext } from '../../auth/auth-service.js';
import { actorOf, principalOf, requireAdmin } from '../authenticate.js';
import {
  ADMIN,
  BODY_PARSING,
  STORE,
  AdminCreateBody,
  AdminUpdateBody,
  CleanupResponse,
  ListUsersQuery,
  MessageSchema,
  StatsResponse,
  UserPublicSchema,
  UsernameParams,
  YapcoinBody,
  YapcoinResponse,
  addSharedSchemas,
  errorResponses,
  jsonResponse,
  ref,
  type ErrorStatus,
} from '../schemas.js';
import { SessionListSchema } from '../session-schemas.js';
import {
  fromAdminCreateBody,
  fromAdminUpdateBody,
  fromListUsersQuery,
  toSessionResponse,
  toStatsResponse,
  toUserPublic,
  toYapcoinResponse,
} from '../wire.js';

const bearer = [{ bearerAuth: [] }];

/** Who is acting and from where, for the audit trail. */
function contextOf(request: FastifyRequest): RequestContext & { actor: Actor } {
  return { ip: request.ip, actor: actorOf(principalOf(request)) };
}
/** What every admin route may answer besides its own errors: 401/403, and 503 from the store. */
const adminErrors = (...statuses: ErrorStatus[]) => errorResponses(...ADMIN, ...statuses, ...STORE);

/** Admin-only user management under /auth. */
export function userRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    // Authenticate before validating, so that strangers learn nothing about the schemas.
    app.addHook('preValidation', requireAdmin(service));

    app.get(
      '/users',
      {
        schema: {
          operationId: 'listUsers',
          tags: ['admin'],
          summary: 'List users (ordered by creation), with search and filters; total in X-Total-Count',
          security: bearer,
          querystring: ListUsersQuery,
          response: {
            200: jsonResponse('One page of users.', Type.Array(ref(UserPublicSchema)), {
              'X-Total-Count': { type: 'integer', description: 'How many users match the filters, on every page.' },
            }),
            ...adminErrors(422),
          },
        },
      },
      async (request, reply) => {
        const page = await service.listUsers(fromListUsersQuery(request.query));
        const mfa = await service.mfaEnabledAmong(page.users.map((u) => u.id));
        return reply
          .header('X-Total-Count', String(page.total))
          .send(page.users.map((u) => toUserPublic(u, mfa.has(u.id))));
      },
    );

    app.post(
      '/users',
      {
        schema: {
          operationId: 'createUser',
          tags: ['admin'],
          summary: 'Create a user with any role',
          security: bearer,
          body: AdminCreateBody,
          response: {
            201: jsonResponse('The new user.', ref(UserPublicSchema)),
            ...adminErrors(...BODY_PARSING, 409, 422),
          },
        },
      },
      async (request, reply) => {
        const user = await service.createUser(fromAdminCreateBody(request.body), contextOf(request));
        return reply.code(201).send(toUserPublic(user, false));
      },
    );

    app.get(
      '/users/:username',
      {
        schema: {
          operationId: 'getUser',
          tags: ['admin'],
          summary: 'One user',
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse('The user.', ref(UserPublicSchema)),
            ...adminErrors(404, 422),
          },
        },
      },
      async (request) => {
        const user = await service.getUser(request.params.username);
        return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
      },
    );

    app.put(
      '/users/:username',
      {
        schema: {
          operationId: 'updateUser',
          tags: ['admin'],
          summary: "Update a user; demotion or deactivation ends the user's sessions at once",
          security: bearer,
          params: UsernameParams,
          body: AdminUpdateBody,
          response: {
            200: jsonResponse('The updated user.', ref(UserPublicSchema)),
            ...adminErrors(...BODY_PARSING, 404, 409, 422),
          },
        },
      },
      async (request) => {
        const changes = fromAdminUpdateBody(request.body);
        const user = await service.updateUser(request.params.username, changes, contextOf(request));
        return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
      },
    );

    app.delete(
      '/users/:username',
      {
        schema: {
          operationId: 'deleteUser',
          tags: ['admin'],
          summary: 'Delete a user',
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse('Deleted.', ref(MessageSchema)),
            ...adminErrors(...BODY_PARSING, 404, 409, 422),
          },
        },
      },
      async (request) => {
        await service.deleteUser(request.params.username, contextOf(request));
        return { message: 'User deleted.' };
      },
    );

    app.post(
      '/users/:username/revoke-tokens',
      {
        schema: {
          operationId: 'revokeUserTokens',
          tags: ['admin'],
          summary: 'End every session of a user; their access and refresh tokens stop working',
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse('How many sessions ended.', ref(MessageSchema)),
            ...adminErrors(...BODY_PARSING, 404, 422),
          },
        },
      },
      async (request) => {
        const count = await service.revokeTokens(request.params.username, contextOf(request));
        return { message: `Revoked ${count} session${count === 1 ? '' : 's'}.` };
      },
    );

    app.get(
      '/users/:username/sessions',
      {
        schema: {
          operationId: 'listUserSessions',
          tags: ['admin'],
          summary: "A user's live login sessions, oldest first (end them all with revoke-tokens)",
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse("The user's live sessions.", SessionListSchema),
            ...adminErrors(404, 422),
          },
        },
      },
      async (request) => {
        const sessions = await service.listUserSessions(request.params.username, principalOf(request).claims.sid);
        return sessions.map(toSessionResponse);
      },
    );

    app.post(
      '/users/:username/unlock',
      {
        schema: {
          operationId: 'unlockUser',
          tags: ['admin'],
          summary: "Clear a user's failed-login counter, so a locked-out owner can log in at once",
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse('Cleared.', ref(MessageSchema)),
            ...adminErrors(...BODY_PARSING, 404, 422),
          },
        },
      },
      async (request) => {
        await service.unlockUser(request.params.username, contextOf(request));
        return { message: 'Failed-login counter cleared.' };
      },
    );

    app.delete(
      '/users/:username/mfa',
      {
        schema: {
          operationId: 'resetUserMfa',
          tags: ['admin'],
          summary: "Remove a user's second factor (a lost device); audited and mailed to the user",
          security: bearer,
          params: UsernameParams,
          response: {
            200: jsonResponse('Removed, or there was none.', ref(MessageSchema)),
            ...adminErrors(...BODY_PARSING, 404, 422),
          },
        },
      },
      async (request) => {
        const removed = await service.resetMfa(request.params.username, contextOf(request));
        return { message: removed ? 'Multi-factor authentication removed.' : 'The user had no second factor.' };
      },
    );

    app.post(
      '/users/:username/yapcoins',
      {
        schema: {
          operationId: 'addYapcoins',
          tags: ['admin'],
          summary: 'Add to (or, with a negative delta, take from) the yapcoin balance, atomically',
          security: bearer,
          params: UsernameParams,
          body: YapcoinBody,
          response: {
            200: jsonResponse('The new balance.', YapcoinResponse),
            ...adminErrors(...BODY_PARSING, 404, 409, 422),
          },
        },
      },
      async (request) => {
        return toYapcoinResponse(await service.addYapcoins(request.params.username, request.body.delta));
      },
    );

    app.get(
      '/stats',
      {
        schema: {
          operationId: 'getStats',
          tags: ['admin'],
          summary: 'User and session counts',
          security: bearer,
          response: {
            200: jsonResponse('The counts.', StatsResponse),
            ...adminErrors(),
          },
        },
      },
      async () => toStatsResponse(await service.stats()),
    );

    app.post(
      '/cleanup',
      {
        schema: {
          operationId: 'cleanup',
          tags: ['admin'],
          summary:
            'Delete expired refresh tokens, ended sessions, audit events past retention, closed login-failure windows and expired signing keys',
          security: bearer,
          response: {
            200: jsonResponse('How many records were removed.', CleanupResponse),
            ...adminErrors(...BODY_PARSING),
          },
        },
      },
      async () => ({ removed: await service.cleanup() }),
    );
  };
}
