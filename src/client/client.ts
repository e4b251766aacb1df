import { Session, type ClientFetch } from './session.js';
import type {
  MfaChallenge,
  AuditEvent,
  AuditQuery,
  CleanupResponse,
  CreateUserRequest,
  ListUsersQuery,
  MessageResponse,
  RegisterRequest,
  SessionInfo,
  Stats,
  TokenPair,
  TokenResponse,
  UpdateMeRequest,
  UpdateUserRequest,
  UserList,
  UserPublic,
  YapcoinBalance,
} from './types.js';

export interface GatekeeperClientOptions {
  /** Where Gatekeeper is served, e.g. `https://auth.example.com` (a path prefix is kept). */
  baseUrl: string | URL;
  /** Default: the global `fetch` (Node 20, browsers). */
  fetch?: ClientFetch;
  /** A pair to start with, e.g. restored from storage. */
  tokens?: TokenPair | null;
  /** Called whenever the pair changes (login, refresh, password change) and with null when it is cleared. */
  onTokens?: (tokens: TokenPair | null) => void;
}

const user = (username: string) => `/auth/users/${encodeURIComponent(username)}`;

/**
 * A typed client of the Gatekeeper HTTP API (docs/API.md) for Node 20 and browsers.
 *
 * It keeps the token pair. When an authenticated call is answered 401 (the access token expired
 * or was made invalid), it refreshes once and repeats the call; calls that fail at the same time
 * share that one refresh. When Gatekeeper refuses the refresh token the pair is cleared
 * (`onTokens(null)`) and the call's own 401 error is thrown; when the refresh gets no answer,
 * 429 or 5xx, the pair is kept and that error is thrown, so the call can be tried again.
 *
 * Every failure is a GatekeeperClientError with `status`, `code`, `detail` (and `errors`,
 * `retryAfterSeconds` where the server sends them).
 *
 * @example
 * const client = new GatekeeperClient({
 *   baseUrl: 'https://auth.example.com',
 *   onTokens: (tokens) => (tokens ? storage.save(tokens) : storage.clear()),
 * });
 * await client.login({ username: 'alice', password: 'Sup3r-Secret!' });
 * const me = await client.me();
 * const { users, total } = await client.listUsers({ limit: 20 }); // admins only
 */
export class GatekeeperClient {
  readonly #session: Session;

  constructor(options: GatekeeperClientOptions) {
    this.#session = new Session(options);
  }

  /** The current pair, or null when signed out. */
  get tokens(): TokenPair | null {
    return this.#session.tokens;
  }

  /** Replaces the pair (or signs out locally with null); calls `onTokens`. */
  setTokens(tokens: TokenPair | null): void {
    this.#session.setTokens(tokens);
  }

  /** POST /auth/register: a new regular account (does not sign in). */
  async register(body: RegisterRequest): Promise<UserPublic> {
    return (await this.#session.request<UserPublic>({ method: 'POST', path: '/auth/register', body })).body;
  }

  /**
   * POST /auth/login (JSON); keeps the returned pair. `username` may be the email. For an
   * account with MFA the answer is an MfaChallenge (nothing is kept): finish with `loginMfa`.
   */
  async login(credentials: { username: string; password: string }): Promise<TokenResponse | MfaChallenge> {
    const { body } = await this.#session.request<TokenResponse | MfaChallenge>({
      method: 'POST',
      path: '/auth/login',
      body: { username: credentials.username, password: credentials.password },
    });
    if ('mfa_required' in body) return body;
    this.#session.setTokens(body);
    return body;
  }

  /** POST /auth/login/mfa: the challenge's mfa_token and a TOTP or recovery code; keeps the returned pair. */
  async loginMfa(mfaToken: string, code: string): Promise<TokenResponse> {
    const { body } = await this.#session.request<TokenResponse>({
      method: 'POST',
      path: '/auth/login/mfa',
      body: { mfa_token: mfaToken, code },
    });
    this.#session.setTokens(body);
    return body;
  }

  /** POST /auth/refresh with the kept refresh token; keeps the rotated pair. Shared with automatic refreshes. */
  refresh(): Promise<TokenResponse> {
    return this.#session.refresh();
  }

  /** POST /auth/logout: ends this session at Gatekeeper; the pair is cleared even if that fails. */
  async logout(): Promise<MessageResponse> {
    const refresh_token = this.#session.tokens?.refresh_token;
    try {
      const body = refresh_token === undefined ? {} : { refresh_token };
      return (await this.#authed<MessageResponse>('POST', '/auth/logout', body)).body;
    } finally {
      this.#session.setTokens(null);
    }
  }

  /** GET /auth/me */
  async me(): Promise<UserPublic> {
    return (await this.#authed<UserPublic>('GET', '/auth/me')).body;
  }

  /** PUT /auth/me: username, email, profile picture, metadata. */
  async updateMe(body: UpdateMeRequest): Promise<UserPublic> {
    return (await this.#authed<UserPublic>('PUT', '/auth/me', body)).body;
  }

  /** POST /auth/change-password: every earlier session ends; keeps the fresh pair. */
  async changePassword(currentPassword: string, newPassword: string): Promise<TokenResponse> {
    const { body } = await this.#authed<TokenResponse>('POST', '/auth/change-password', {
      current_password: currentPassword,
      new_password: newPassword,
    });
    this.#session.setTokens(body);
    return body;
  }

  /** POST /auth/email/verification: mails a confirmation link and code to the current address. */
  async requestEmailVerification(): Promise<MessageResponse> {
    return (await this.#authed<MessageResponse>('POST', '/auth/email/verification')).body;
  }

  /** POST /auth/email/verify: the mailed link's token (no sign-in needed) or, signed in, the mailed code. */
  async verifyEmail(proof: { token: string } | { code: string }): Promise<UserPublic> {
    const auth = typeof proof === 'object' && 'code' in proof;
    return (await this.#session.request<UserPublic>({ method: 'POST', path: '/auth/email/verify', body: proof, auth }))
      .body;
  }

  /** GET /auth/sessions: the caller's live sessions. */
  async sessions(): Promise<SessionInfo[]> {
    return (await this.#authed<SessionInfo[]>('GET', '/auth/sessions')).body;
  }

  /** DELETE /auth/sessions/{id}: ends one of the caller's sessions, on every instance. */
  async endSession(id: string): Promise<MessageResponse> {
    return (await this.#authed<MessageResponse>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`)).body;
  }

  /** GET /auth/users (admin): a page of users and the total from `X-Total-Count`. */
  async listUsers(query: ListUsersQuery = {}): Promise<UserList> {
    const { body, response } = await this.#session.request<UserPublic[]>({
      method: 'GET',
      path: '/auth/users',
      query: { skip: query.skip, limit: query.limit, q: query.q, role: query.role, is_active: query.is_active },
      auth: true,
    });
    const total = Number(response.headers.get('x-total-count'));
    return { users: body, total: Number.isInteger(total) ? total : body.length };
  }

  /** GET /auth/users/{username} (admin) */
  async getUser(username: string): Promise<UserPublic> {
    return (await this.#authed<UserPublic>('GET', user(username))).body;
  }

  /** POST /auth/users (admin): any role, active or not. */
  async createUser(body: CreateUserRequest): Promise<UserPublic> {
    return (await this.#authed<UserPublic>('POST', '/auth/users', body)).body;
  }

  /** PUT /auth/users/{username} (admin); demotion or deactivation ends the user's sessions. */
  async updateUser(username: string, body: UpdateUserRequest): Promise<UserPublic> {
    return (await this.#authed<UserPublic>('PUT', user(username), body)).body;
  }

  /** DELETE /auth/users/{username} (admin) */
  async deleteUser(username: string): Promise<MessageResponse> {
    return (await this.#authed<MessageResponse>('DELETE', user(username))).body;
  }

  /** POST /auth/users/{username}/revoke-tokens (admin): ends every session of the user. */
  async revokeTokens(username: string): Promise<MessageResponse> {
    return (await this.#authed<MessageResponse>('POST', `${user(username)}/revoke-tokens`)).body;
  }

  /** POST /auth/users/{username}/yapcoins (admin): adds `delta` (negative takes), atomically. */
  async addYapcoins(username: string, delta: number): Promise<YapcoinBalance> {
    return (await this.#authed<YapcoinBalance>('POST', `${user(username)}/yapcoins`, { delta })).body;
  }

  /** GET /auth/stats (admin) */
  async stats(): Promise<Stats> {
    return (await this.#authed<Stats>('GET', '/auth/stats')).body;
  }

  /** POST /auth/cleanup (admin): deletes what has expired. */
  async cleanup(): Promise<CleanupResponse> {
    return (await this.#authed<CleanupResponse>('POST', '/auth/cleanup')).body;
  }

  /** GET /auth/audit (admin): newest first. */
  async audit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    const { body } = await this.#session.request<AuditEvent[]>({
      method: 'GET',
      path: '/auth/audit',
      query: { user: query.user, event: query.event, since: query.since, limit: query.limit },
      auth: true,
    });
    return body;
  }

  #authed<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
    return this.#session.request<T>({ method, path, body, auth: true });
  }
}
