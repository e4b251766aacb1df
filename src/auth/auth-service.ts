/**
 * The service's one entry point: HTTP, the CLI and library users all come through
 * AuthService, the only place that combines the store with password hashing and
 * tokens. Its body only composes the use-case areas, one module each:
 *
 *   sign-in.ts         register, login, refresh, logout, authenticate, sessions
 *   profile.ts         a user's own profile and password
 *   administration.ts  managing other accounts, stats, the audit trail
 *   maintenance.ts     cleanup, retention, the first admin, health for operations
 *   clients.ts         OAuth clients (register, list, delete, rotate the secret)
 *   introspection.ts   RFC 7662: client authentication and the state of a token
 *   password-reset.ts  forgot password: a mailed one-time link, and the reset with it
 *   email-verification.ts  confirming an email address (link or code), confirmed email changes
 *   sessions.ts        a user's sessions: list and end them; an admin's view of them
 *   mfa.ts             TOTP: setup, confirm, disable, admin reset, the login's second step
 *
 * Methods stay flat (service.updateUser, not service.admin.updateUser), so callers
 * did not change when the areas moved out.
 */
import type {
  AuditEventRecord,
  OAuthClientRecord,
  PoolFigures,
  UserPage,
  UserRecord,
  UserStats,
} from '../store/store.js';
import type { Actor, RequestContext } from './actor.js';
import { Administration } from './administration.js';
import { Clients, type AdminContext, type ClientWithSecret, type NewClientInput } from './clients.js';
import { resolveDeps, type AuthServiceOptions, type UseCaseDeps } from './deps.js';
import { Introspection, type ClientCredentials, type IntrospectionResult } from './introspection.js';
import { Mfa, type TotpSetup } from './mfa.js';
import type { MfaChallenge, SecondFactorMode } from './mfa-challenge.js';
import { Maintenance, type AdminAccount, type ServiceHealth } from './maintenance.js';
import { EmailVerification } from './email-verification.js';
import { PasswordReset, type ForgotRequest } from './password-reset.js';
import { Profile } from './profile.js';
import { SessionNotices } from './session-notices.js';
import { Sessions } from './sessions.js';
import { SignIn } from './sign-in.js';
import type {
  AdminChanges,
  AuditQueryInput,
  NewAccount,
  Principal,
  ProfileChanges,
  SessionInfo,
  TokenPair,
  UserListQuery,
} from './types.js';

export type { Actor, RequestContext } from './actor.js';
export type { AuthServiceOptions } from './deps.js';
export type { AdminAccount, ServiceHealth } from './maintenance.js';
export type { AdminContext, ClientWithSecret, NewClientInput } from './clients.js';
export type { ClientCredentials, IntrospectionResult } from './introspection.js';
export type { ForgotRequest } from './password-reset.js';
export type { TotpSetup } from './mfa.js';
export type { MfaChallenge, SecondFactorMode } from './mfa-challenge.js';
export type * from './types.js';

/**
 * The use cases of docs/API.md.
 * @example
 * const service = new AuthService({ store, hasher, tokens, passwordPolicy: 'moderate', refreshTokenDays: 30, allowRegistration: true });
 * const tokens = await service.login('ada', 'correct horse battery staple', { ip: '192.0.2.1' });
 */
export class AuthService {
  readonly #signIn: SignIn;
  readonly #profile: Profile;
  readonly #admin: Administration;
  readonly #maintenance: Maintenance;
  readonly #clients: Clients;
  readonly #introspection: Introspection;
  readonly #passwordReset: PasswordReset;
  readonly #emailVerification: EmailVerification;
  readonly #sessions: Sessions;
  readonly #mfa: Mfa;
  readonly #deps: UseCaseDeps;

  constructor(options: AuthServiceOptions) {
    const deps = resolveDeps(options);
    this.#deps = deps;
    this.#emailVerification = new EmailVerification(deps, {
      mailer: options.mailer ?? null,
      tokenMinutes: options.emailVerificationMinutes ?? 60,
      required: options.requireEmailVerification ?? false,
    });
    const notices = new SessionNotices(deps, {
      mailer: options.mailer ?? null,
      notifyNewAddress: options.notifyNewAddress ?? false,
    });
    this.#signIn = new SignIn(deps, this.#emailVerification, notices);
    this.#profile = new Profile(deps, this.#emailVerification);
    this.#admin = new Administration(deps, this.#signIn, this.#emailVerification, notices);
    this.#sessions = new Sessions(deps, notices);
    this.#maintenance = new Maintenance(deps);
    this.#clients = new Clients(deps);
    this.#introspection = new Introspection(deps, this.#signIn);
    this.#passwordReset = new PasswordReset(deps, {
      mailer: options.mailer ?? null,
      tokenMinutes: options.resetTokenMinutes ?? 30,
      ...(options.forgotIpMax === undefined ? {} : { forgotIpMax: options.forgotIpMax }),
    });
    this.#mfa = new Mfa(deps, {
      mailer: options.mailer ?? null,
      issuer: options.mfaIssuer ?? 'Gatekeeper',
      keyMaterial: options.mfaKeyMaterial ?? null,
      notices,
    });
  }

  // --- sign-in (sign-in.ts) ------------------------------------------------------------------

  /** Self-registration; an actor with admin authority in `context` may create any role, even when closed. */
  register(account: NewAccount, context: RequestContext = {}): Promise<UserRecord> {
    return this.#signIn.register(account, context);
  }

  /**
   * Username (or email) and password → a new session; throttled; one error for every failure.
   * An account with MFA answers an MfaChallenge instead (or MFA_REQUIRED with `secondFactor` 'refuse').
   */
  login(
    login: string,
    password: string,
    context: RequestContext = {},
    secondFactor: SecondFactorMode = 'challenge',
  ): Promise<TokenPair | MfaChallenge> {
    return this.#signIn.login(login, password, context, secondFactor);
  }

  /** The login's second step: the challenge's mfa_token and a TOTP or recovery code → a new session. */
  loginWithSecondFactor(mfaToken: string, code: string, context: RequestContext = {}): Promise<TokenPair> {
    return this.#mfa.completeLogin(mfaToken, code, context);
  }

  /** Rotates a refresh token; a reused one ends its whole session. */
  refresh(refreshToken: string, context: RequestContext = {}): Promise<TokenPair> {
    return this.#signIn.refresh(refreshToken, context);
  }

  /** Verifies an access token and checks that its session and user are still good. */
  authenticate(accessToken: string): Promise<Principal> {
    return this.#signIn.authenticate(accessToken);
  }

  /** Ends the principal's session (and the given refresh token's, when it is theirs). */
  logout(principal: Principal, refreshToken?: string, context: RequestContext = {}): Promise<void> {
    return this.#signIn.logout(principal, refreshToken, context);
  }

  // --- sessions (sessions.ts) -----------------------------------------------------------------

  /** The principal's live sessions, oldest first; `current` marks the one of their token. */
  listSessions(principal: Principal): Promise<SessionInfo[]> {
    return this.#sessions.listOwn(principal);
  }

  /** Ends one of the principal's own sessions everywhere; SESSION_NOT_FOUND for any other id. */
  revokeSession(principal: Principal, sessionId: string, context: RequestContext = {}): Promise<void> {
    return this.#sessions.revokeOwn(principal, sessionId, context);
  }

  /** Ends every session of the principal's, this one included ("sign out everywhere"); gives how many. */
  revokeAllSessions(principal: Principal, context: RequestContext = {}): Promise<number> {
    return this.#sessions.revokeAllOwn(principal, context);
  }

  /** The live sessions of the user of that name (admin authority is the caller's check); USER_NOT_FOUND. */
  listUserSessions(username: string, currentSessionId: string | null = null): Promise<SessionInfo[]> {
    return this.#sessions.listOfUser(username, currentSessionId);
  }

  // --- the user's own account (profile.ts) ----------------------------------------------------

  /** Changes the principal's own profile fields; a new email needs `currentPassword` or a recent login. */
  updateProfile(
    principal: Principal,
    changes: ProfileChanges,
    context: RequestContext = {},
    currentPassword?: string,
  ): Promise<UserRecord> {
    return this.#profile.updateProfile(principal, changes, context, currentPassword);
  }

  /** Replaces the password, ends every session of the user and starts a fresh one. */
  changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    context: RequestContext = {},
  ): Promise<TokenPair> {
    return this.#profile.changePassword(principal, currentPassword, newPassword, context);
  }

  // --- multi-factor authentication (mfa.ts) ---------------------------------------------------

  /** Password first; a pending TOTP secret (secret, otpauth URL, QR code). */
  setupTotp(principal: Principal, password: string, context: RequestContext = {}): Promise<TotpSetup> {
    return this.#mfa.setup(principal, password, context);
  }

  /** The first code confirms the pending secret; gives the ten recovery codes, once. */
  confirmTotp(principal: Principal, code: string, context: RequestContext = {}): Promise<string[]> {
    return this.#mfa.confirm(principal, code, context);
  }

  /** Password and a TOTP or recovery code; turns MFA off. */
  disableTotp(principal: Principal, password: string, code: string, context: RequestContext = {}): Promise<void> {
    return this.#mfa.disable(principal, password, code, context);
  }

  /** Admin authority: removes the user's MFA (audited, mailed); false when there was none. */
  resetMfa(username: string, context: RequestContext = {}): Promise<boolean> {
    return this.#mfa.reset(username, context);
  }

  /** Of these users, the ids of those with MFA confirmed (UserPublic's mfa_enabled). */
  mfaEnabledAmong(userIds: readonly string[]): Promise<Set<string>> {
    return this.#mfa.enabledAmong(userIds);
  }

  // --- password reset (password-reset.ts) ------------------------------------------------------

  /** Mails a reset link if the account exists; resolves alike (and in similar time) either way. */
  forgotPassword(request: ForgotRequest, context: RequestContext = {}): Promise<void> {
    return this.#passwordReset.forgot(request, context);
  }

  /** Spends a mailed token for a new password (policy first); ends every session of the user. */
  resetPassword(token: string, newPassword: string, context: RequestContext = {}): Promise<void> {
    return this.#passwordReset.reset(token, newPassword, context);
  }

  // --- email verification (email-verification.ts) ---------------------------------------------

  /** Mails a verification link and code to the user's current address (409 when it is verified). */
  requestEmailVerification(principal: Principal, context: RequestContext = {}): Promise<void> {
    return this.#emailVerification.request(principal.user.id, context);
  }

  /** Confirms the address a mailed link's token was issued for (a waiting email change takes effect). */
  verifyEmail(token: string, context: RequestContext = {}): Promise<UserRecord> {
    return this.#emailVerification.verifyToken(token, context);
  }

  /** Confirms with the mailed short code: only the signed-in owner, a few tries. */
  verifyEmailCode(principal: Principal, code: string, context: RequestContext = {}): Promise<UserRecord> {
    return this.#emailVerification.verifyCode(principal.user.id, code, context);
  }

  // --- administration (administration.ts) -----------------------------------------------------

  /** A page of users in creation order, filtered. */
  listUsers(query: UserListQuery): Promise<UserPage> {
    return this.#admin.listUsers(query);
  }

  /** Creates a user with the actor's authority (any role, even when registration is closed). */
  createUser(account: NewAccount, context: RequestContext & { actor: Actor }): Promise<UserRecord> {
    return this.#admin.createUser(account, context);
  }

  /** The user of that name, or USER_NOT_FOUND. */
  getUser(username: string): Promise<UserRecord> {
    return this.#admin.getUser(username);
  }

  /** Demotion and deactivation end the user's sessions at once. */
  updateUser(username: string, changes: AdminChanges, context: RequestContext = {}): Promise<UserRecord> {
    return this.#admin.updateUser(username, changes, context);
  }

  /** Admin password reset (CLI): validates, hashes, ends every session. */
  setPassword(username: string, password: string, context: RequestContext = {}): Promise<void> {
    return this.#admin.setPassword(username, password, context);
  }

  /** Deletes the user and, with them, their sessions. */
  deleteUser(username: string, context: RequestContext = {}): Promise<void> {
    return this.#admin.deleteUser(username, context);
  }

  /** Ends every session of the user; gives how many were ended. */
  revokeTokens(username: string, context: RequestContext = {}): Promise<number> {
    return this.#admin.revokeTokens(username, context);
  }

  /** Clears the account's failed-login counter (an admin's remedy for a lockout). */
  unlockUser(username: string, context: RequestContext = {}): Promise<void> {
    return this.#admin.unlockUser(username, context);
  }

  /** Adds to (or takes from) the yapcoin balance atomically. */
  addYapcoins(username: string, delta: number): Promise<{ username: string; balance: number }> {
    return this.#admin.addYapcoins(username, delta);
  }

  /** User counts and active sessions. */
  stats(): Promise<UserStats & { activeSessions: number }> {
    return this.#admin.stats();
  }

  /** The audit trail, newest first. */
  listAuditEvents(query: AuditQueryInput): Promise<AuditEventRecord[]> {
    return this.#admin.listAuditEvents(query);
  }

  // --- OAuth clients (clients.ts) -------------------------------------------------------------

  /** Registers a client (admin authority); a confidential client's secret is in the result, once. */
  createClient(input: NewClientInput, context: AdminContext): Promise<ClientWithSecret> {
    return this.#clients.createClient(input, context);
  }

  /** Every client in creation order (admin authority). */
  listClients(context: AdminContext): Promise<OAuthClientRecord[]> {
    return this.#clients.listClients(context);
  }

  /** The client of that client_id, or CLIENT_NOT_FOUND (admin authority). */
  getClient(clientId: string, context: AdminContext): Promise<OAuthClientRecord> {
    return this.#clients.getClient(clientId, context);
  }

  /** Deletes the client; its secret stops working at once (admin authority). */
  deleteClient(clientId: string, context: AdminContext): Promise<void> {
    return this.#clients.deleteClient(clientId, context);
  }

  /** A new secret for a confidential client, shown once; the old one stops working (admin authority). */
  rotateClientSecret(clientId: string, context: AdminContext): Promise<ClientWithSecret & { clientSecret: string }> {
    return this.#clients.rotateClientSecret(clientId, context);
  }

  // --- introspection (introspection.ts) ---------------------------------------------------------

  /** The confidential client the credentials prove, or INVALID_CLIENT; failures are throttled per address. */
  authenticateClient(credentials: ClientCredentials | null, context: RequestContext = {}): Promise<OAuthClientRecord> {
    return this.#introspection.authenticateClient(credentials, context);
  }

  /** RFC 7662: authenticates the client, then whether `token` is active now, and whose it is. */
  introspect(
    credentials: ClientCredentials | null,
    token: string | undefined,
    context: RequestContext = {},
  ): Promise<IntrospectionResult> {
    return this.#introspection.introspect(credentials, token, context);
  }

  // --- maintenance (maintenance.ts) -----------------------------------------------------------

  /** Everything expired: ended sessions and old refresh tokens, plus what purgeExpired() removes. */
  cleanup(): Promise<number> {
    return this.#maintenance.cleanup();
  }

  /** Audit events past retention, closed login-failure windows, long-retired signing keys. */
  purgeExpired(): Promise<number> {
    return this.#maintenance.purgeExpired();
  }

  /** Creates (or promotes) the configured admin when no active admin exists. */
  ensureAdmin(admin: AdminAccount): Promise<'created' | 'promoted' | 'exists'> {
    return this.#maintenance.ensureAdmin(admin);
  }

  /** The store's health and kind, for /health. */
  health(options?: { timeoutMs?: number }): Promise<ServiceHealth> {
    return this.#maintenance.health(options);
  }

  /** Writes what the service still holds for the audit trail (aggregated refusals); call once, at shutdown. */
  close(): Promise<void> {
    return this.#deps.refusals.close();
  }

  /** The connection pool's figures (null without a pool), for /metrics. */
  poolFigures(): PoolFigures | null {
    return this.#maintenance.poolFigures();
  }
}
