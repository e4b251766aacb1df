/**
 * The claims of a Gatekeeper access token (docs/API.md, TokenResponse), and the one check of
 * their shape: the service (src/security/tokens.ts) and the verifier other services embed
 * (src/verifier/) accept exactly the same tokens.
 */
import { ROLES, type Role } from './roles.js';

export interface AccessClaims {
  /** The user's id. */
  sub: string;
  username: string;
  role: Role;
  /** The login session (refresh-token family) the token belongs to. */
  sid: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /**
   * When the user last proved their password (the login's time, OIDC's `auth_time`, in
   * seconds): kept unchanged across refreshes, so "signed in within 5 minutes" means a
   * password, not a refresh token. Absent in tokens issued before it existed.
   */
  auth_time?: number;
  /**
   * RFC 8176 authentication methods of the login: ["pwd"], or ["pwd", "otp"] with a second
   * factor (kept across refreshes). Absent in tokens issued before it existed.
   */
  amr?: string[];
}

/**
 * The access claims of a verified JWT payload, or null when it is not an access token
 * (a refresh token, another type, a missing or mistyped claim, an unknown role).
 */
export function readAccessClaims(payload: Readonly<Record<string, unknown>>): AccessClaims | null {
  const { sub, username, role, sid, jti, iat, exp, type, auth_time, amr } = payload;
  if (
    type !== 'access' ||
    typeof sub !== 'string' ||
    typeof username !== 'string' ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    (auth_time !== undefined && typeof auth_time !== 'number') ||
    (amr !== undefined && !(Array.isArray(amr) && amr.every((m) => typeof m === 'string')))
  ) {
    return null;
  }
  const known = ROLES.find((r) => r === role);
  if (known === undefined) return null;
  return {
    sub,
    username,
    role: known,
    sid,
    jti,
    iat,
    exp,
    ...(typeof auth_time === 'number' ? { auth_time } : {}),
    ...(Array.isArray(amr) ? { amr: [...(amr as string[])] } : {}),
  };
}
