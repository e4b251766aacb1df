import type { VerifiedToken } from '../verifier/index.js';

/**
 * The little of a Node/Express/Connect request the middleware reads and writes. Express's own
 * types are not imported, so services that do not use Express do not need them.
 */
export interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by requireAuth() to the verified token's claims. */
  user?: VerifiedToken;
}

/** The little of a Node `ServerResponse` (what Express's `res` extends) the middleware uses. */
export interface AuthResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** Connect's `next`: called with nothing to go on, or with an error for the app's error handler. */
export type Next = (err?: unknown) => void;

/** A middleware as Express and Connect call it. */
export type Middleware = (req: AuthRequest, res: AuthResponse, next: Next) => void | Promise<void>;

/** A request after requireAuth(): `user` is set. */
export interface AuthenticatedRequest extends AuthRequest {
  user: VerifiedToken;
}
