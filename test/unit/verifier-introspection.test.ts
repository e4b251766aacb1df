import { describe, expect, it } from 'vitest';
import { createVerifier, type FetchLike } from '../../src/verifier/index.js';
import { createIntrospector } from '../../src/verifier/introspection.js';
import { NOW, SECRET, SETTINGS, USER, codeOf, hs256Issuer, manualClock } from './verifier-fixtures.js';

/**
 * The client side of RFC 7662 (`POST /auth/introspect`) through the verifier's `fetch` option.
 * The end-to-end test against Gatekeeper's endpoint is test/http/verifier-introspection.test.ts.
 */
const INTROSPECT = 'https://gk.test/auth/introspect';

interface Call {
  url: string;
  init: RequestInit;
}

function introspectionEndpoint(answer: (token: string) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return answer(new URLSearchParams(String(init.body)).get('token') ?? '');
  };
  return { calls, fetch };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function verifierWith(
  fetch: FetchLike,
  clock = manualClock(),
  extra: { cacheSeconds?: number; cacheSize?: number } = {},
) {
  return createVerifier(
    { secret: SECRET },
    {
      issuer: SETTINGS.issuer,
      audience: SETTINGS.audience,
      now: clock.now,
      fetch,
      introspection: { url: INTROSPECT, clientId: 'orders service', clientSecret: 's3cr:t&', ...extra },
    },
  );
}

const mint = (sid = 's') => hs256Issuer().issue(USER, sid, NOW);

describe('createVerifier with introspection', () => {
  it('posts the token as a form with HTTP Basic client authentication, and accepts {active: true}', async () => {
    const endpoint = introspectionEndpoint(() => json({ active: true, sub: USER.id }));
    const token = await mint();
    expect(await verifierWith(endpoint.fetch).verify(token)).toMatchObject({ sub: USER.id });
    expect(endpoint.calls).toHaveLength(1);
    const { url, init } = endpoint.calls[0]!;
    expect(url).toBe(INTROSPECT);
    expect(init.method).toBe('POST');
    const headers = init.headers as Record<string, string>;
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    // RFC 6749 §2.3.1: id and secret form-encoded, then joined and base64-encoded.
    expect(headers['authorization']).toBe(`Basic ${Buffer.from('orders+service:s3cr%3At%26').toString('base64')}`);
    expect(String(init.body)).toBe(new URLSearchParams({ token }).toString());
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  it('{active: false} is TOKEN_REVOKED', async () => {
    const endpoint = introspectionEndpoint(() => json({ active: false }));
    expect(await codeOf(verifierWith(endpoint.fetch).verify(await mint()))).toBe('TOKEN_REVOKED');
  });

  it('reuses an answer for cacheSeconds per token, then asks again', async () => {
    let active = true;
    const endpoint = introspectionEndpoint(() => json({ active }));
    const clock = manualClock();
    const verifier = verifierWith(endpoint.fetch, clock, { cacheSeconds: 5 });
    const [a, b] = [await mint('a'), await mint('b')];
    await verifier.verify(a);
    await verifier.verify(a);
    clock.advance(4);
    await verifier.verify(a);
    expect(endpoint.calls).toHaveLength(1);
    await verifier.verify(b);
    expect(endpoint.calls).toHaveLength(2);

    active = false; // revoked at Gatekeeper: seen once the answer is older than cacheSeconds
    clock.advance(1);
    expect(await codeOf(verifier.verify(a))).toBe('TOKEN_REVOKED');
    expect(endpoint.calls).toHaveLength(3);
    expect(await codeOf(verifier.verify(a))).toBe('TOKEN_REVOKED');
    expect(endpoint.calls).toHaveLength(3);
  });

  it('cacheSeconds 0 asks every time; concurrent checks of one token share one request', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const endpoint = introspectionEndpoint(async () => {
      await gate;
      return json({ active: true });
    });
    // The introspector itself, so that all ten checks are certainly in flight before the answer comes.
    const introspect = createIntrospector(
      { url: INTROSPECT, clientId: 'c', clientSecret: 's', cacheSeconds: 0 },
      endpoint.fetch,
      () => NOW,
    );
    const token = await mint();
    const claims = await createVerifier({ secret: SECRET }, { now: () => NOW }).verify(token);
    const checks = Promise.all(Array.from({ length: 10 }, () => codeOf(introspect(token, claims))));
    expect(endpoint.calls).toHaveLength(1);
    release();
    expect(await checks).toEqual(Array(10).fill('OK'));
    await introspect(token, claims);
    expect(endpoint.calls).toHaveLength(2);
  });

  it('keeps at most cacheSize answers, dropping the oldest', async () => {
    const endpoint = introspectionEndpoint(() => json({ active: true }));
    const verifier = verifierWith(endpoint.fetch, manualClock(), { cacheSize: 2 });
    const [a, b, c] = [await mint('a'), await mint('b'), await mint('c')];
    for (const token of [a, b, c]) await verifier.verify(token);
    expect(endpoint.calls).toHaveLength(3);
    await verifier.verify(c);
    await verifier.verify(b);
    expect(endpoint.calls).toHaveLength(3);
    await verifier.verify(a);
    expect(endpoint.calls).toHaveLength(4);
  });

  it('does not ask about tokens that fail local verification', async () => {
    const endpoint = introspectionEndpoint(() => json({ active: true }));
    const clock = manualClock();
    const verifier = verifierWith(endpoint.fetch, clock);
    const token = await mint();
    clock.advance(31 * 60);
    expect(await codeOf(verifier.verify(token))).toBe('TOKEN_EXPIRED');
    expect(await codeOf(verifier.verify('not.a.token'))).toBe('INVALID_TOKEN');
    expect(endpoint.calls).toHaveLength(0);
  });

  it('a failing endpoint is DATABASE_UNAVAILABLE with Retry-After, is not cached, and names no secret', async () => {
    let mode: 'down' | 'refused' | 'garbage' | 'shape' | 'ok' = 'down';
    const endpoint = introspectionEndpoint(() => {
      if (mode === 'down') return json({ detail: 'busy', code: 'OVERLOADED' }, 503, { 'retry-after': '7' });
      if (mode === 'refused') return json({ error: 'invalid_client' }, 401);
      if (mode === 'garbage') return new Response('<html>', { status: 200 });
      if (mode === 'shape') return json({ active: 'yes' });
      return json({ active: true });
    });
    const verifier = verifierWith(endpoint.fetch);
    const token = await mint();
    const down = await verifier.verify(token).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 7 });
    for (const next of ['refused', 'garbage', 'shape'] as const) {
      mode = next;
      const error = await verifier.verify(token).catch((e: unknown) => e);
      expect(error, next).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 5 });
      expect((error as Error).message).not.toContain(token);
      expect((error as Error).message).not.toContain('s3cr');
    }
    mode = 'ok';
    expect(await codeOf(verifier.verify(token))).toBe('OK');
    expect(endpoint.calls).toHaveLength(5);
  });

  it('a fetch that rejects (network error, timeout) is DATABASE_UNAVAILABLE', async () => {
    const verifier = verifierWith(async () => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    });
    expect(await codeOf(verifier.verify(await mint()))).toBe('DATABASE_UNAVAILABLE');
  });
});
