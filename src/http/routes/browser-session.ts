/**
 * The pages' way to sign in and out (src/http/browser-session.ts): the same use cases as
 * POST /auth/login, /auth/login/mfa, /auth/refresh, /auth/change-password and /auth/logout, with
 * the same throttles and audit lines, but the tokens go into HttpOnly cookies and never into a
 * body a script could read. Every route here checks the CSRF header and the request's site first,
 * so another site can neither sign a visitor in to its own account nor out of theirs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../../auth/auth-service.js';
import type { TokenPair } from '../../auth/types.js';
import { GatekeeperError, isGatekeeperError } from '../../errors.js';
import { principalOf, requireUser } from '../authenticate.js';
import { checkSameSite, clearSessionCookies, refreshCookie, setSessionCookies } from '../browser-session.js';
import { MfaLoginBody } from '../mfa-schemas.js';
import {
  BODY_PARSING,
  ChangePasswordBody,
  MessageSchema,
  MfaChallengeSchema,
  STORE,
  UserPublicSchema,
  addSharedSchemas,
  errorResponses,
  jsonResponse,
  ref,
  text,
} from '../schemas.js';
import { LIMITS } from '../../core/limits.js';
import { toMfaChallenge, toUserPublic } from '../wire.js';
import { sessionContextOf } from './sessions.js';

const SessionLoginBody = Type.Object(
  {
    username: text({ minLength: 1, maxLength: 255, description: 'Username or email.' }),
    password: text({ minLength: 1, maxLength: LIMITS.passwordMax }),
  },
  { additionalProperties: false },
);

const SignedIn = Type.Object(
  {
    signed_in: Type.Literal(true),
    user: ref(UserPublicSchema),
    expires_in: Type.Integer({ description: 'Seconds until the access cookie expires (the page refreshes it).' }),
  },
  { description: 'Signed in: the session is in the cookies, not in this body.' },
);

const CSRF_DOC =
  'Needs `X-Gatekeeper-CSRF: 1`, and is refused (403 `CROSS_SITE_REQUEST`) from another site. ' +
  'Sets the session cookies (HttpOnly, SameSite=Strict); no token is in the body.';

const NO_STORE = { 'Cache-Control': { type: 'string', description: 'Always `no-store`.' } } as const;

export function browserSessionRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    app.addHook('onRequest', async (request) => checkSameSite(request));
    app.addHook('onSend', async (_request, reply) => {
      reply.header('Cache-Control', 'no-store');
    });

    /** The cookies get the pair; the body gets who signed in. */
    async function signedIn(request: FastifyRequest, reply: FastifyReply, tokens: TokenPair) {
      const principal = await service.authenticate(tokens.accessToken);
      setSessionCookies(request, reply, tokens);
      return { signed_in: true as const, user: await publicUser(principal), expires_in: tokens.expiresInSeconds };
    }

    async function publicUser(principal: Principal) {
      const { user } = principal;
      return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
    }

    app.post(
      '/session',
      {
        schema: {
          operationId: 'signInBrowser',
          tags: ['pages'],
          summary: 'Sign in from the pages: the session goes into HttpOnly cookies',
          description: CSRF_DOC,
          body: SessionLoginBody,
          response: {
            200: jsonResponse(
              'Signed in; or, for an account with MFA, the challenge for POST /auth/session/mfa.',
              Type.Union([SignedIn, ref(MfaChallengeSchema)]),
              NO_STORE,
            ),
            ...errorResponses(...BODY_PARSING, 401, 403, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const result = await service.login(username, password, sessionContextOf(request), 'challenge');
        if ('mfaRequired' in result) return toMfaChallenge(result);
        return signedIn(request, reply, result);
      },
    );

    app.post(
      '/session/mfa',
      {
        schema: {
          operationId: 'signInBrowserMfa',
          tags: ['pages'],
          summary: "The pages' sign-in second step: the challenge's mfa_token and a TOTP or recovery code",
          description: CSRF_DOC,
          body: MfaLoginBody,
          response: {
            200: jsonResponse('Signed in.', SignedIn, NO_STORE),
            ...errorResponses(...BODY_PARSING, 401, 403, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        try {
          const tokens = await service.loginWithSecondFactor(
            request.body.mfa_token,
            request.body.code,
            sessionContextOf(request),
          );
          return await signedIn(request, reply, tokens);
        } catch (err) {
          // As POST /auth/login/mfa: a wrong code is the sign-in failing, 401 like a wrong password.
          if (!isGatekeeperError(err, 'INVALID_CODE')) throw err;
          return (reply as FastifyReply).code(401).send({ detail: err.message, code: err.code });
        }
      },
    );

    app.post(
      '/session/refresh',
      {
        schema: {
          operationId: 'refreshBrowserSession',
          tags: ['pages'],
          summary: "Rotate the pages' session: the refresh cookie for a new pair of cookies",
          description: CSRF_DOC,
          response: {
            200: jsonResponse('The session goes on.', SignedIn, NO_STORE),
            ...errorResponses(401, 403, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const token = refreshCookie(request);
        if (token === null) {
          throw new GatekeeperError('INVALID_REFRESH_TOKEN', 'Not signed in: there is no session cookie.');
        }
        try {
          return await signedIn(request, reply, await service.refresh(token, { ip: request.ip }));
        } catch (err) {
          // A dead session's cookies are of no further use: the browser drops them.
          if (isGatekeeperError(err) && err.code !== 'DATABASE_UNAVAILABLE') clearSessionCookies(request, reply);
          throw err;
        }
      },
    );

    app.post(
      '/session/password',
      {
        preValidation: requireUser(service),
        schema: {
          operationId: 'changePasswordBrowser',
          tags: ['pages'],
          summary: 'Change your password from the pages; every other session ends, this one goes on in fresh cookies',
          description: CSRF_DOC,
          body: ChangePasswordBody,
          response: {
            200: jsonResponse('Changed.', SignedIn, NO_STORE),
            ...errorResponses(...BODY_PARSING, 400, 401, 403, 422, 429, ...STORE),
          },
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
        return signedIn(request, reply, tokens);
      },
    );

    app.delete(
      '/session',
      {
        schema: {
          operationId: 'signOutBrowser',
          tags: ['pages'],
          summary: 'Sign out from the pages: ends this session everywhere and drops the cookies',
          description: CSRF_DOC,
          response: {
            200: jsonResponse('Signed out.', ref(MessageSchema), NO_STORE),
            ...errorResponses(403, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const principal = await sessionOf(service, request);
        if (principal) await service.logout(principal, refreshCookie(request) ?? undefined, { ip: request.ip });
        clearSessionCookies(request, reply);
        return { message: 'Signed out.' };
      },
    );
  };
}

/**
 * The session the cookies belong to, so signing out ends it even when the access cookie has run
 * out: then the refresh cookie is rotated once to learn it. null when neither cookie works.
 */
async function sessionOf(service: AuthService, request: FastifyRequest): Promise<Principal | null> {
  try {
    await requireUser(service)(request, undefined as never);
    return principalOf(request);
  } catch (err) {
    if (isGatekeeperError(err, 'DATABASE_UNAVAILABLE')) throw err;
  }
  const token = refreshCookie(request);
  if (token === null) return null;
  try {
    return await service.authenticate((await service.refresh(token, { ip: request.ip })).accessToken);
  } catch (err) {
    if (isGatekeeperError(err, 'DATABASE_UNAVAILABLE')) throw err;
    return null;
  }
}
