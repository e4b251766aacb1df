import { GatekeeperClientError, errorFromResponse } from './errors.js';
import type { TokenPair, TokenResponse } from './types.js';

/** A `fetch`-compatible function; the global one by default. */
export type ClientFetch = (input: string, init: RequestInit) => Promise<Response>;

export interface SessionOptions {
  baseUrl: string | URL;
  fetch?: ClientFetch;
  tokens?: TokenPair | null;
  onTokens?: (tokens: TokenPair | null) => void;
}

export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | Date | undefined>;
  body?: unknown;
  /** Sends the access token, and refreshes once on a 401. */
  auth?: boolean;
}

/** A refresh that failed for a reason that may pass (no answer, 429, 5xx): the tokens are kept. */
function isTransient(error: GatekeeperClientError): boolean {
  return error.status === 0 || error.status === 429 || error.status >= 500;
}

/**
 * HTTP, JSON and the token pair for GatekeeperClient. On a 401 from an authenticated call it
 * refreshes once and retries; concurrent calls share one refresh (single flight), and a call
 * whose 401 arrives after another call's refresh simply retries with the new token.
 */
export class Session {
  readonly #base: string;
  readonly #fetch: ClientFetch;
  readonly #onTokens: ((tokens: TokenPair | null) => void) | undefined;
  #tokens: TokenPair | null;
  /**
   * Bumped whenever the pair changes. "Did the pair change while I waited?" is asked of this
   * counter, not by comparing tokens (secrets are never compared with ===: test/unit/constant-time.test.ts).
   */
  #generation = 0;
  #refreshing: Promise<TokenResponse> | null = null;

  constructor(options: SessionOptions) {
    this.#base = new URL(options.baseUrl).href.replace(/\/+$/, '');
    // Called as a plain function: browsers refuse `fetch` called as a method of another object.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#onTokens = options.onTokens;
    this.#tokens = options.tokens ? pair(options.tokens) : null;
  }

  get tokens(): TokenPair | null {
    return this.#tokens ? { ...this.#tokens } : null;
  }

  setTokens(tokens: TokenPair | null): void {
    this.#tokens = tokens ? pair(tokens) : null;
    this.#generation += 1;
    this.#onTokens?.(this.tokens);
  }

  /** The call's JSON answer and its response (for headers). Throws GatekeeperClientError. */
  async request<T>(call: Call): Promise<{ body: T; response: Response }> {
    let response: Response;
    if (!call.auth) {
      response = await this.#send(call, undefined);
    } else {
      const used = this.#tokens?.access_token;
      if (used === undefined) throw notSignedIn();
      const generation = this.#generation;
      response = await this.#send(call, used);
      if (response.status === 401) {
        const original = await errorFromResponse(response);
        await this.#renew(generation, original);
        response = await this.#send(call, this.#tokens!.access_token);
      }
    }
    if (!response.ok) throw await errorFromResponse(response);
    return { body: await parse<T>(response), response };
  }

  /** Exchanges the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<TokenResponse> {
    this.#refreshing ??= this.#refreshNow().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** After a 401 for a call sent with the pair of `generation`: a new access token, or throws (the original error unless the failure may pass). */
  async #renew(generation: number, original: GatekeeperClientError): Promise<void> {
    if (this.#tokens === null) throw original;
    if (this.#generation !== generation && this.#refreshing === null) return; // refreshed meanwhile
    try {
      await this.refresh();
    } catch (err) {
      if (err instanceof GatekeeperClientError && isTransient(err)) throw err;
      throw original;
    }
  }

  async #refreshNow(): Promise<TokenResponse> {
    const current = this.#tokens;
    if (current === null) throw notSignedIn();
    const generation = this.#generation;
    const response = await this.#send(
      { method: 'POST', path: '/auth/refresh', body: { refresh_token: current.refresh_token } },
      undefined,
    );
    if (!response.ok) {
      const error = await errorFromResponse(response);
      // Refused (unknown, used, expired): the pair is dead. A failure that may pass keeps it.
      if (!isTransient(error) && this.#generation === generation) this.setTokens(null);
      throw error;
    }
    const tokens = await parse<TokenResponse>(response);
    // A login or logout while the refresh was under way wins over its answer.
    if (this.#generation === generation) this.setTokens(tokens);
    return tokens;
  }

  async #send(call: Call, accessToken: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (accessToken !== undefined) headers['authorization'] = `Bearer ${accessToken}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method: call.method, headers };
    if (call.body !== undefined) init.body = JSON.stringify(call.body);
    try {
      return await this.#fetch(this.#base + call.path + queryString(call.query), init);
    } catch (cause) {
      throw new GatekeeperClientError({
        status: 0,
        code: 'NETWORK_ERROR',
        detail: 'Gatekeeper could not be reached.',
        cause,
      });
    }
  }
}

function pair(tokens: TokenPair): TokenPair {
  return { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
}

function notSignedIn(): GatekeeperClientError {
  return new GatekeeperClientError({ status: 401, code: 'NOT_AUTHENTICATED', detail: 'Not signed in.' });
}

function queryString(query: Call['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new GatekeeperClientError({
      status: response.status,
      code: 'UNEXPECTED_RESPONSE',
      detail: `Gatekeeper answered ${response.status} with a body that is not JSON.`,
      cause,
    });
  }
}
