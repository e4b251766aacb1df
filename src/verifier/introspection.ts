import { GatekeeperError } from '../errors.js';
import { unavailable } from './claims.js';
import type { FetchLike, IntrospectionOptions, VerifiedToken } from './types.js';

const DEFAULT_CACHE_SECONDS = 5;
const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_CACHE_SIZE = 10_000;

interface Answer {
  active: boolean;
  until: number;
}

/**
 * Asks Gatekeeper whether a locally verified token is still active (RFC 7662), remembering each
 * answer for `cacheSeconds`. Answers are keyed by the token's `jti`: the token passed signature
 * verification first, so its `jti` names exactly these bytes, and no token is kept in memory.
 * Concurrent checks of one token share one request.
 */
export function createIntrospector(
  options: IntrospectionOptions,
  fetchImpl: FetchLike,
  now: () => Date,
): (token: string, claims: VerifiedToken) => Promise<void> {
  const url = new URL(options.url).href;
  const cacheMs = (options.cacheSeconds ?? DEFAULT_CACHE_SECONDS) * 1000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!(cacheMs >= 0) || !(timeoutMs > 0) || !(cacheSize >= 1)) {
    throw new TypeError('introspection cacheSeconds must be ≥ 0, timeoutMs > 0 and cacheSize ≥ 1');
  }
  const authorization = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`;
  const answers = new Map<string, Answer>();
  const pending = new Map<string, Promise<boolean>>();

  const ask = async (token: string): Promise<boolean> => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unavailable('the introspection endpoint could not be reached', err);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw unavailable(`the introspection endpoint answered ${response.status}`, undefined, retryAfter(response));
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw unavailable('the introspection answer is not JSON', err);
    }
    const active = (body as { active?: unknown } | null)?.active;
    if (typeof active !== 'boolean') throw unavailable('the introspection answer has no "active" member');
    return active;
  };

  const remember = (jti: string, active: boolean) => {
    if (cacheMs === 0) return;
    answers.delete(jti);
    if (answers.size >= cacheSize) answers.delete(answers.keys().next().value!);
    answers.set(jti, { active, until: now().getTime() + cacheMs });
  };

  return async (token, claims) => {
    const cached = answers.get(claims.jti);
    let active: boolean;
    if (cached !== undefined && cached.until > now().getTime()) {
      active = cached.active;
    } else {
      if (cached !== undefined) answers.delete(claims.jti);
      let inFlight = pending.get(claims.jti);
      if (inFlight === undefined) {
        inFlight = ask(token).finally(() => pending.delete(claims.jti));
        pending.set(claims.jti, inFlight);
        active = await inFlight;
        remember(claims.jti, active);
      } else {
        active = await inFlight;
      }
    }
    if (!active) throw new GatekeeperError('TOKEN_REVOKED', 'The access token has been revoked.');
  };
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined and base64-encoded. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function retryAfter(response: Response): number | undefined {
  const value = Number(response.headers.get('retry-after'));
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
