/**
 * TOTP (RFC 6238) through otplib: new secrets, the otpauth:// URL authenticator apps scan, its
 * QR code as SVG, and checking a code. Parameters are the ones every authenticator app
 * supports: SHA-1, 6 digits, 30-second steps; 160-bit secrets (RFC 4226 §4 recommends that).
 */
import { generateSecret, generateURI, verify } from 'otplib';
import { toString as qrString } from 'qrcode';

export const TOTP_PERIOD_SECONDS = 30;
/** ±1 step of clock drift (RFC 6238 §5.2 advises at most one step back; phones run fast too). */
const DRIFT_SECONDS = TOTP_PERIOD_SECONDS;
const CODE_PATTERN = /^\d{6}$/;

/** A new Base32 secret of 160 random bits. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URL for an authenticator app (issuer and account name are shown in the app). */
export function totpUrl(secret: string, issuer: string, accountName: string): string {
  return generateURI({ issuer, label: accountName, secret, period: TOTP_PERIOD_SECONDS, digits: 6 });
}

/** The QR code of `url` as a standalone SVG document. */
export function qrSvg(url: string): Promise<string> {
  return qrString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * The RFC 6238 time step `code` matches at `now` (±1 step), or null. The caller still has to
 * accept that step once (the store's acceptMfaStep) so a code cannot be replayed.
 */
export async function matchTotp(secret: string, code: string, now: Date): Promise<number | null> {
  if (!CODE_PATTERN.test(code)) return null;
  try {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(now.getTime() / 1000),
      epochTolerance: DRIFT_SECONDS,
      period: TOTP_PERIOD_SECONDS,
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null; // otplib throws on input it cannot use: for the caller, a wrong code
  }
}

/** Whether `code` looks like a TOTP code (6 digits) rather than a recovery code. */
export function isTotpCode(code: string): boolean {
  return CODE_PATTERN.test(code.trim());
}
