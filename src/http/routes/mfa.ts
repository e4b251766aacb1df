import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AuthService } from '../../auth/auth-service.js';
import { isGatekeeperError } from '../../errors.js';
import { principalOf, requireUser } from '../authenticate.js';
import { sessionContextOf } from './sessions.js';
import {
  MfaLoginBody,
  RecoveryCodesResponse,
  TotpConfirmBody,
  TotpDisableBody,
  TotpSetupBody,
  TotpSetupResponse,
} from '../mfa-schemas.js';
import {
  BODY_PARSING,
  MessageSchema,
  STORE,
  TokenResponseSchema,
  addSharedSchemas,
  errorResponses,
  jsonResponse,
  ref,
} from '../schemas.js';
import { toTokenResponse, toTotpSetupResponse } from '../wire.js';

const bearer = [{ bearerAuth: [] }];
const NO_STORE = { 'Cache-Control': { type: 'string' as const, description: 'Always `no-store`.' } };

/** Multi-factor authentication (TOTP) under /auth, and the login's second step. */
export function mfaRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    addSharedSchemas(app);
    const authenticated = requireUser(service);

    app.post(
      '/mfa/totp/setup',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'setupTotp',
          tags: ['mfa'],
          summary: 'Start TOTP setup (password first): a secret, its otpauth URL and QR code, pending until confirmed',
          security: bearer,
          body: TotpSetupBody,
          response: {
            200: jsonResponse('The pending secret.', TotpSetupResponse, NO_STORE),
            ...errorResponses(...BODY_PARSING, 401, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const setup = await service.setupTotp(principalOf(request), request.body.password, { ip: request.ip });
        return reply.header('Cache-Control', 'no-store').send(toTotpSetupResponse(setup));
      },
    );

    app.post(
      '/mfa/totp/confirm',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'confirmTotp',
          tags: ['mfa'],
          summary: 'Confirm the pending TOTP secret with a first code; answers the recovery codes, once',
          security: bearer,
          body: TotpConfirmBody,
          response: {
            200: jsonResponse('MFA is on; the ten recovery codes.', RecoveryCodesResponse, NO_STORE),
            ...errorResponses(...BODY_PARSING, 401, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const codes = await service.confirmTotp(principalOf(request), request.body.code, { ip: request.ip });
        return reply.header('Cache-Control', 'no-store').send({ recovery_codes: codes });
      },
    );

    app.delete(
      '/mfa/totp',
      {
        preValidation: authenticated,
        schema: {
          operationId: 'disableTotp',
          tags: ['mfa'],
          summary: 'Turn MFA off with the password and a TOTP or recovery code',
          security: bearer,
          body: TotpDisableBody,
          response: {
            200: jsonResponse('MFA is off.', ref(MessageSchema)),
            ...errorResponses(...BODY_PARSING, 401, 409, 422, 429, ...STORE),
          },
        },
      },
      async (request) => {
        const { password, code } = request.body;
        await service.disableTotp(principalOf(request), password, code, { ip: request.ip });
        return { message: 'Multi-factor authentication is off.' };
      },
    );

    app.post(
      '/login/mfa',
      {
        schema: {
          operationId: 'loginMfa',
          tags: ['auth'],
          summary: "The login's second step: the mfa_token of POST /auth/login and a TOTP or recovery code",
          body: MfaLoginBody,
          response: {
            200: jsonResponse('Logged in.', ref(TokenResponseSchema), NO_STORE),
            ...errorResponses(...BODY_PARSING, 401, 422, 429, ...STORE),
          },
        },
      },
      async (request, reply) => {
        const { mfa_token, code } = request.body;
        let tokens;
        try {
          // The session starts here: it records the address and user agent as a password login's does.
          tokens = await service.loginWithSecondFactor(mfa_token, code, sessionContextOf(request));
        } catch (err) {
          // INVALID_CODE is 400 where a signed-in user types a code; here it is the sign-in itself
          // failing, 401 like a wrong password (docs/API.md, "Multi-factor authentication").
          if (!isGatekeeperError(err, 'INVALID_CODE')) throw err;
          return (reply as FastifyReply)
            .code(401)
            .header('WWW-Authenticate', 'Bearer')
            .header('Cache-Control', 'no-store')
            .send({ detail: err.message, code: err.code });
        }
        return reply.header('Cache-Control', 'no-store').send(toTokenResponse(tokens));
      },
    );
  };
}
