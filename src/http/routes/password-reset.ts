/**
 * POST /auth/password/forgot and /auth/password/reset (docs/API.md, "Account recovery and
 * email"). Forgot answers 202 with one body whatever happened to the account; reset answers
 * 400 INVALID_TOKEN for any token that cannot be spent (unknown, used, expired).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AuthService, ForgotRequest } from '../../auth/auth-service.js';
import { invalidField, isGatekeeperError } from '../../errors.js';
import {
  BODY_PARSING,
  ForgotPasswordBody,
  MessageSchema,
  ResetPasswordBody,
  STORE,
  errorResponses,
  jsonResponse,
  ref,
} from '../schemas.js';

export const FORGOT_MESSAGE =
  'If an account with that email or username exists, a link to reset its password is on its way.';
const RESET_MESSAGE = 'Your password was changed, and every session was signed out. Sign in with the new password.';

export function passwordResetRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/password/forgot',
      {
        schema: {
          operationId: 'forgotPassword',
          tags: ['auth'],
          summary: 'Ask for a password reset link by mail; the same answer whether or not the account exists',
          body: ForgotPasswordBody,
          response: {
            202: jsonResponse('Accepted (whether or not a mail was sent).', ref(MessageSchema)),
            ...errorResponses(...BODY_PARSING, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const { email, username } = request.body;
        if ((email === undefined) === (username === undefined)) {
          throw invalidField('email', 'give exactly one of email and username');
        }
        const who: ForgotRequest = email !== undefined ? { email } : { username: username! };
        await service.forgotPassword(who, { ip: request.ip });
        return reply.code(202).send({ message: FORGOT_MESSAGE });
      },
    );

    app.post(
      '/password/reset',
      {
        schema: {
          operationId: 'resetPassword',
          tags: ['auth'],
          summary: 'Set a new password with a mailed token; every session of the user ends',
          body: ResetPasswordBody,
          response: {
            200: jsonResponse('The password was changed.', ref(MessageSchema)),
            ...errorResponses(...BODY_PARSING, 422, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const { token, new_password } = request.body;
        try {
          await service.resetPassword(token, new_password, { ip: request.ip });
        } catch (err) {
          // INVALID_TOKEN is 401 for bearer tokens; a reset token is part of the body: 400 (docs/API.md).
          if (isGatekeeperError(err, 'INVALID_TOKEN')) {
            // The typed reply knows the success statuses only (errorResponses builds its keys at run time).
            return (reply as FastifyReply).code(400).send({ detail: err.message, code: err.code });
          }
          throw err;
        }
        return reply.send({ message: RESET_MESSAGE });
      },
    );
  };
}
