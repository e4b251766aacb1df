import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../auth/auth-service.js';
import { GatekeeperError } from '../../errors.js';
import { actorOf, bearerToken, principalOf, requireUser } from '../authenticate.js';
import { BODY_OPTIONAL } from '../openapi.js';
import {
  BODY_PARSING,
  ChangePasswordBody,
  LoginBody,
  LogoutBody,
  MessageSchema,
  MfaChallengeSchema,
  RefreshBody,
  RegisterBody,
  STORE,
  TokenResponseSchema,
  UpdateMeBody,
  UserPublicSchema,
  addSharedSchemas,
  errorResponses,
  jsonResponse,
  ref,
} from '../schemas.js';
import { sessionContextOf } from './sessions.js';
import {
  adminOnlyFieldsOf,
  fromProfileBody,
  fromRegisterBody,
  toMfaChallenge,
  toTokenResponse,
  toUserPublic,
} from '../wire.js';

const bearer = [{ bearerAuth: [] }];

/** A fresh token pair; the route sets Cache-Control: no-store on it. */
const tokens = (description: string) =>
  jsonResponse(description, ref(TokenResponseSchema), {
    'Cache-Control': { type: 'string', description: 'Always `no-store`.' },
  });

/** Public and self-service routes under /auth. */
export function authRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    const authenticated = requireUser(service);
    // Refusals counted but not yet written to the audit trail are written when the app closes: in
    // preClose, because the store may already be closed by the time onClose hooks run.
    app.addHook('preClose', async () => {
      await service.close();
    });

    app.post(
      '/register',
      {
        schema: {
          operationId: 'register',
          tags: ['auth'],
          summary: 'Register a new user',
          body: RegisterBody,
          response: {
            201: jsonResponse('The new user.', ref(UserPublicSchema)),
            ...errorResponses(...BODY_PARSING, 401, 403, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        // An admin may register others through this route too (the original allowed a role here).
        const actor = request.headers.authorization ? actorOf(await service.authenticate(bearerToken(request))) : null;
        const user = await service.register(fromRegisterBody(request.body), { ip: request.ip, actor });
        return reply.code(201).send(toUserPublic(user, false)); // a new account has no second factor yet
      },
    );

    app.post(
      '/login',
      {
        schema: {
          operationId: 'login',
          tags: ['auth'],
          summary: 'Log in with username (or email) and password; JSON or OAuth2 form',
          consumes: ['application/json', 'application/x-www-form-urlencoded'],
          body: LoginBody,
          response: {
            200: jsonResponse(
              'Logged in; or, for an account with MFA, the challenge for POST /auth/login/mfa (no tokens).',
              Type.Union([ref(TokenResponseSchema), ref(MfaChallengeSchema)]),
              { 'Cache-Control': { type: 'string', description: 'Always `no-store`.' } },
            ),
            // 400 MFA_REQUIRED: the OAuth2 form cannot take a second step.
            ...errorResponses(...BODY_PARSING, 401, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
        const result = await service.login(
          request.body.username,
          request.body.password,
          sessionContextOf(request),
          form ? 'refuse' : 'challenge',
        );
        reply.header('Cache-Control', 'no-store');
        return reply.send('mfaRequired' in result ? toMfaChallenge(result) : toTokenResponse(result));
      },
    );

    app.post(
      '/refresh',
      {
        schema: {
          operationId: 'refreshTokens',
          tags: ['auth'],
          summary: 'Exchange a refresh token for a new token pair (the old one stops working)',
          body: RefreshBody,
          response: { 200: tokens('The rotated token pair.'), ...errorResponses(...BODY_PARSING, 401, 422, ...STORE) },
        },
      },
      async (request, reply) => {
        const tokens = await service.refresh(request.body.refresh_token, { ip: request.ip });
        return reply.header('Cache-Control', 'no-store').send(toTokenResponse(tokens));
      },
    );

    app.post(
      '/logout',
      {
        preValidation: [
          authenticated,
          async (request) => {
            request.body ??= {}; // the body is optional
          },
        ],
        schema: {
          operationId: 'logout',
          tags: ['auth'],
          summary: "End this login session (and the given refresh token's)",
          security: bearer,
          [BODY_OPTIONAL]: true,
          body: LogoutBody,
          response: {
            200: jsonResponse('Logged out.', ref(MessageSchema)),
            ...errorResponses(...BODY_PARSING, 401, 422, ...STORE),
          },
        },
      },
      async (request) => {
        await service.logout(principalOf(request), request.body?.refresh_token, { ip: request.ip });
        return { message: 'Logged out.' };
      },
    );

    app.get(
      '/me',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'getMe',
          tags: ['auth'],
          summary: 'The current user',
          security: bearer,
          response: { 200: jsonResponse('The current user.', ref(UserPublicSchema)), ...errorResponses(401, ...STORE) },
        },
      },
      async (request) => {
        const { user } = principalOf(request);
        return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
      },
    );

    app.put(
      '/me',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'updateMe',
          tags: ['auth'],
          summary: 'Update your own profile',
          security: bearer,
          body: UpdateMeBody,
          response: {
            200: jsonResponse('The updated user.', ref(UserPublicSchema)),
            ...errorResponses(...BODY_PARSING, 401, 403, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request) => {
        const refused = adminOnlyFieldsOf(request.body);
        if (refused.length > 0) {
          throw new GatekeeperError('FORBIDDEN', `Only an admin can change ${refused.join(', ')}.`);
        }
        const user = await service.updateProfile(
          principalOf(request),
          fromProfileBody(request.body),
          { ip: request.ip },
          request.body.current_password,
        );
        return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
      },
    );

    app.post(
      '/change-password',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'changePassword',
          tags: ['auth'],
          summary: 'Change your password; every other session ends and a fresh one starts',
          security: bearer,
          body: ChangePasswordBody,
          response: { 200: tokens('The fresh session.'), ...errorResponses(...BODY_PARSING, 401, 422, 429, ...STORE) },
        },
      },
      async (request, reply) => {
        const { current_password, new_password } = request.body;
        const tokens = await service.changePassword(
          principalOf(request),
          current_password,
          new_password,
          sessionContextOf(request),
        );
        return reply.header('Cache-Control', 'no-store').send(toTokenResponse(tokens));
      },
    );
  };
}
