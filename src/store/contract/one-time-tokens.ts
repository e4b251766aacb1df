/**
 * The one-time tokens facet of the storage contract: secrets mailed to a user (a password reset
 * link, an email verification link with its short code), kept only as their SHA-256, spent at
 * most once.
 */

/** What a token is for: a token of one purpose is never accepted for another. */
export type TokenPurpose =
  | 'password_reset'
  | 'email_verification'
  /** The second step of a login with MFA (src/auth/mfa-challenge.ts): proof that the password was right. */
  | 'mfa_login';

export interface NewOneTimeToken {
  userId: string;
  purpose: TokenPurpose;
  /** SHA-256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  /** The address the token confirms (email verification); null or absent otherwise. */
  email?: string | null;
  /** SHA-256 hex of a short code that may be typed instead of following the link. */
  codeHash?: string | null;
}

/** What spending a token gives back. */
export interface SpentToken {
  userId: string;
  /** The address the token was issued to confirm, when it was. */
  email: string | null;
}

/** A per-user budget: at most `max` tokens of this purpose issued since `since`. */
export interface IssueBudget {
  since: Date;
  max: number;
}

export interface OneTimeTokensStore {
  /**
   * In one transaction: refuses (false) when the user already had `budget.max` tokens of this
   * purpose issued since `budget.since`; else voids every older unused token of that user and
   * purpose and stores the new one (true). Concurrent calls for one user are serialised, so a
   * flood cannot exceed the budget. False too when the user does not exist.
   */
  issueOneTimeToken(token: NewOneTimeToken, budget: IssueBudget): Promise<boolean>;
  /**
   * Atomically marks the token used when it is of this purpose, unused and unexpired at `now`,
   * and returns its user's id; null otherwise (of two concurrent calls exactly one wins).
   */
  consumeOneTimeToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<SpentToken | null>;
  /**
   * Spends the user's live token of this purpose by its short code, atomically: a match marks it
   * used and returns it; a wrong code counts one failed attempt, and the `maxAttempts`-th wrong
   * one voids the token (so a short code can be guessed only a few times). Null when nothing
   * matched (no live token with a code, or a wrong code).
   */
  consumeOneTimeCode(
    userId: string,
    purpose: TokenPurpose,
    codeHash: string,
    now: Date,
    maxAttempts: number,
  ): Promise<SpentToken | null>;
  /**
   * The user of a token of this purpose that is unused and unexpired at `now`, without spending
   * it (the MFA step: a wrong code leaves the token usable until it expires); null otherwise.
   */
  findOneTimeToken(tokenHash: string, purpose: TokenPurpose, now: Date): Promise<{ userId: string } | null>;
  /** Voids every unused token of the user (of one purpose, or all); returns how many. */
  voidOneTimeTokens(userId: string, now: Date, purpose?: TokenPurpose): Promise<number>;
  /**
   * Deletes tokens created before `createdBefore` that are used or expired at `now` (the rows
   * younger than that still count against the issue budget); returns how many.
   */
  purgeOneTimeTokens(now: Date, createdBefore: Date): Promise<number>;
}
