/**
 * The first step of a login with a second factor: once the password is right, an account with
 * confirmed MFA gets a challenge instead of tokens. Its mfa_token is 256 random bits, kept as
 * SHA-256 only (a one_time_tokens row of purpose 'mfa_login'), works for MFA_TOKEN_MINUTES and
 * is spent by the one code that completes the login (./mfa.ts). A new challenge voids the
 * account's earlier ones: one pending second step per account.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GatekeeperError } from '../errors.js';
import type { UserRecord } from '../store/store.js';
import type { UseCaseDeps } from './deps.js';

export const MFA_TOKEN_MINUTES = 5;
export const MFA_METHODS = ['totp', 'recovery_code'] as const;
export const MFA_TOKEN_PURPOSE = 'mfa_login' as const;
/** Challenges per account within MFA_TOKEN_MINUTES: the password throttle locks well before. */
const CHALLENGES_PER_WINDOW = 30;

/** What a correct password answers for an account with MFA. */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  methods: readonly (typeof MFA_METHODS)[number][];
  expiresInSeconds: number;
}

/** How a login treats an account with MFA: a challenge (the JSON API), or MFA_REQUIRED (the OAuth2 form). */
export type SecondFactorMode = 'challenge' | 'refuse';

/** SHA-256 hex: what the store keeps of an mfa_token. */
export function hashMfaToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The challenge for `user` when their MFA is confirmed, else null (the login goes on without one). */
export async function mfaChallengeFor(
  deps: UseCaseDeps,
  user: UserRecord,
  mode: SecondFactorMode,
): Promise<MfaChallenge | null> {
  const mfa = await deps.store.getMfa(user.id);
  if (!mfa?.confirmedAt) return null;
  if (mode === 'refuse') {
    throw new GatekeeperError(
      'MFA_REQUIRED',
      'This account uses a second factor; sign in with the JSON API (POST /auth/login, then /auth/login/mfa).',
    );
  }
  const now = deps.now();
  const windowMs = MFA_TOKEN_MINUTES * 60_000;
  const token = randomBytes(32).toString('base64url');
  const issued = await deps.store.issueOneTimeToken(
    {
      userId: user.id,
      purpose: MFA_TOKEN_PURPOSE,
      tokenHash: hashMfaToken(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + windowMs),
    },
    { since: new Date(now.getTime() - windowMs), max: CHALLENGES_PER_WINDOW },
  );
  if (!issued) {
    throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many sign-ins for this account; try again later.', {
      retryAfterSeconds: MFA_TOKEN_MINUTES * 60,
    });
  }
  return { mfaRequired: true, mfaToken: token, methods: MFA_METHODS, expiresInSeconds: MFA_TOKEN_MINUTES * 60 };
}
