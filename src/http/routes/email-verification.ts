/**
 * POST /auth/email/verification and /auth/email/verify (docs/API.md, "Account recovery and
 * email"). The mailed link's token confirms whoever sends it (the mail is the proof); the short
 * code only from the signed-in owner. A token or code that cannot be spent is 400 INVALID_TOKEN.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AuthService } from '../../auth/auth-service.js';
import { invalidField, isGatekeeperError } from '../../errors.js';
import type { UserRecord } from '../../store/store.js';
import { bearerToken, principalOf, requireUser } from '../authenticate.js';
import {
  BODY_PARSING,
  MessageSchema,
  STORE,
  UserPublicSchema,
  VerifyEmailBody,
  errorResponses,
  jsonResponse,
  ref,
} from '../schemas.js';
import { toUserPublic } from '../wire.js';

const SENT_MESSAGE = 'A mail with a confirmation link and code is on its way to your email address.';

export function emailVerificationRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    const authenticated = requireUser(service);

    app.post(
      '/email/verification',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'requestEmailVerification',
          tags: ['auth'],
          summary: 'Mail a confirmation link and code to the signed-in user’s email address',
          security: [{ bearerAuth: [] }],
          response: {
            202: jsonResponse('A verification mail is queued.', ref(MessageSchema)),
            ...errorResponses(401, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        await service.requestEmailVerification(principalOf(request), { ip: request.ip });
        return reply.code(202).send({ message: SENT_MESSAGE });
      },
    );

    app.post(
      '/email/verify',
      {
        schema: {
          operationId: 'verifyEmail',
          tags: ['auth'],
          summary: 'Confirm an email address with the mailed link’s token (or, signed in, its code)',
          body: VerifyEmailBody,
          response: {
            200: jsonResponse('The confirmed user.', ref(UserPublicSchema)),
            ...errorResponses(...BODY_PARSING, 401, 409, 422, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const { token, code } = request.body;
        if ((token === undefined) === (code === undefined)) {
          throw invalidField('token', 'give exactly one of token and code');
        }
        // INVALID_TOKEN is 401 for bearer tokens; a mailed token or code is part of the body: 400.
        const confirmed = async (verify: () => Promise<UserRecord>) => {
          let user: UserRecord;
          try {
            user = await verify();
          } catch (err) {
            if (!isGatekeeperError(err, 'INVALID_TOKEN')) throw err;
            return (reply as FastifyReply).code(400).send({ detail: err.message, code: err.code });
          }
          return toUserPublic(user, (await service.mfaEnabledAmong([user.id])).has(user.id));
        };
        if (token !== undefined) return confirmed(() => service.verifyEmail(token, { ip: request.ip }));
        // The code is the owner's only: their bearer token first (its failures are the usual 401s).
        const principal = await service.authenticate(bearerToken(request));
        return confirmed(() => service.verifyEmailCode(principal, code!, { ip: request.ip }));
      },
    );
  };
}
