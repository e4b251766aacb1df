/**
 * TypeBox schemas of the multi-factor routes (src/http/routes/mfa.ts): validation and the OpenAPI
 * document from one source. The login challenge itself is a shared schema (MfaChallenge, schemas.ts).
 */
import { Type } from '@sinclair/typebox';
import { LIMITS } from '../core/limits.js';
import { text } from './schemas.js';

const MfaCode = text({
  minLength: 1,
  maxLength: 64,
  description: 'A 6-digit TOTP code, or (where allowed) a recovery code such as `abcd-efgh-jkmn`.',
});
const CurrentPassword = text({ minLength: 1, maxLength: LIMITS.passwordMax });

export const TotpSetupBody = Type.Object({ password: CurrentPassword }, { additionalProperties: false });
export const TotpSetupResponse = Type.Object({
  secret: Type.String({ description: 'Base32, for typing into an authenticator app.' }),
  otpauth_url: Type.String({ description: 'The otpauth://totp/ URL an authenticator app takes.' }),
  qr_svg: Type.String({ description: 'The otpauth URL as a QR code, an SVG document.' }),
});
export const TotpConfirmBody = Type.Object({ code: MfaCode }, { additionalProperties: false });
export const RecoveryCodesResponse = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'Shown this once; each works once instead of a code.' }),
});
export const TotpDisableBody = Type.Object(
  { password: CurrentPassword, code: MfaCode },
  { additionalProperties: false },
);
export const MfaLoginBody = Type.Object(
  { mfa_token: text({ minLength: 1, maxLength: 512 }), code: MfaCode },
  { additionalProperties: false },
);
