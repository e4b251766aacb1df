/**
 * Issue 6 point 5: Better Auth on the same machine, the same PostgreSQL server and in the
 * same run: sign-up, sign-in (username plugin) and get-session with and without its cookie
 * cache; raw scrypt at its parameters as its own hash baseline; and Gatekeeper's /auth/me
 * measured interleaved with get-session.
 */
import type { BenchContext } from '../lib/context.js';
import { loginAll, mapLimit, PASSWORD, postJson, registerUsers, usernames } from '../lib/http.js';
import { hashCell, httpCell } from '../lib/load.js';
import { measure } from '../lib/measure.js';
import type { Service } from '../lib/process.js';
import { HASH_CONCURRENCY } from './hashing.js';
import { ME_CONNECTIONS, meRequests } from './me.js';

/** Users (and sessions) per system: sign-up and sign-in at scrypt/Argon2 cost make set-up slow otherwise. */
const USERS = 16;

const READY = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
/** Browsers send it on every POST; Better Auth refuses state-changing requests without a trusted one. */
const ORIGIN = { origin: 'http://127.0.0.1' };
const SCRYPT_PARAMS = { memoryCost: 0, timeCost: 0, parallelism: 0 }; // unused by the scrypt binding

/** `name=value` pairs of a response's Set-Cookie headers, ready for a Cookie header. */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

async function signUp(baseUrl: string, name: string): Promise<void> {
  const r = await postJson(
    `${baseUrl}/api/auth/sign-up/email`,
    { email: `${name}@example.com`, password: PASSWORD, name, username: name },
    ORIGIN,
  );
  if (!r.ok) throw new Error(`Better Auth sign-up ${name}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
}

async function signIn(baseUrl: string, name: string): Promise<string> {
  const r = await postJson(`${baseUrl}/api/auth/sign-in/username`, { username: name, password: PASSWORD }, ORIGIN);
  if (!r.ok) throw new Error(`Better Auth sign-in ${name}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
  return cookiesOf(r);
}

export async function betterAuthScenario(ctx: BenchContext): Promise<void> {
  const baUrl = await ctx.db.create('better_auth');
  const services: Service[] = [];
  const startPeer = async (name: string, env: Record<string, string>) => {
    const s = await ctx.start({
      name,
      script: 'bench/peers/better-auth-server.ts',
      logDir: ctx.logDir,
      ready: READY,
      env: { DATABASE_URL: baUrl, NODE_ENV: 'production', ...env },
    });
    services.push(s);
    return s;
  };
  try {
    const plain = await startPeer('better-auth', { BA_MIGRATE: '1' });
    const cached = await startPeer('better-auth-cookie-cache', { BA_COOKIE_CACHE: '1' });
    const names = usernames(`ba_${ctx.nonce}_`, USERS);
    await mapLimit(names, 4, (n) => signUp(plain.baseUrl, n));
    const plainCookies = await mapLimit(names, 4, (n) => signIn(plain.baseUrl, n));
    const cachedCookies = await mapLimit(names, 4, (n) => signIn(cached.baseUrl, n));
    if (!cachedCookies[0]?.includes('session_data')) {
      ctx.results.notes.push('Better Auth with cookieCache did not set a session_data cookie: check the peer.');
    }

    // Gatekeeper next to it, for /auth/me measured in the same interleaved group.
    const gkUrl = await ctx.db.create('gk_vs_ba');
    const gk = await ctx.startGatekeeper('gatekeeper-vs-ba', gkUrl);
    services.push(gk);
    const gkNames = usernames(`v${ctx.nonce}_`, USERS);
    await registerUsers(gk.baseUrl, gkNames);
    const gkTokens = await loginAll(gk.baseUrl, gkNames);

    const session = (cookies: string[]) =>
      cookies.map((cookie) => ({ method: 'GET' as const, path: '/api/auth/get-session', headers: { cookie } }));
    ctx.log('Better Auth sign-in vs raw scrypt');
    Object.assign(
      ctx.results.cells,
      await measure(
        [
          hashCell(ctx.raw, {
            key: 'raw.scrypt.verify',
            label: 'raw scrypt verify (Better Auth params)',
            binding: 'scrypt',
            op: 'verify',
            params: SCRYPT_PARAMS,
            concurrency: HASH_CONCURRENCY,
          }),
          httpCell(ctx.load, {
            key: 'ba.signin',
            label: 'Better Auth POST sign-in/username',
            url: plain.baseUrl,
            connections: HASH_CONCURRENCY,
            settleMs: 300,
            workload: {
              kind: 'static',
              requests: names.slice(0, 16).map((username) => ({
                method: 'POST',
                path: '/api/auth/sign-in/username',
                headers: ORIGIN,
                body: JSON.stringify({ username, password: PASSWORD }),
              })),
            },
          }),
        ],
        ctx.timing,
        ctx.log,
      ),
    );
    ctx.log('Better Auth sign-up vs raw scrypt');
    Object.assign(
      ctx.results.cells,
      await measure(
        [
          hashCell(ctx.raw, {
            key: 'raw.scrypt.hash',
            label: 'raw scrypt hash (Better Auth params)',
            binding: 'scrypt',
            op: 'hash',
            params: SCRYPT_PARAMS,
            concurrency: HASH_CONCURRENCY,
          }),
          httpCell(ctx.load, {
            key: 'ba.signup',
            label: 'Better Auth POST sign-up/email',
            url: plain.baseUrl,
            connections: HASH_CONCURRENCY,
            settleMs: 300,
            workload: {
              kind: 'unique',
              request: {
                method: 'POST',
                path: '/api/auth/sign-up/email',
                headers: ORIGIN,
                body: JSON.stringify({
                  email: `s${ctx.nonce}_{n}@example.com`,
                  password: PASSWORD,
                  name: `s${ctx.nonce}_{n}`,
                  username: `s${ctx.nonce}_{n}`,
                }),
              },
            },
          }),
        ],
        ctx.timing,
        ctx.log,
      ),
    );
    ctx.log('Better Auth get-session vs Gatekeeper GET /auth/me');
    Object.assign(
      ctx.results.cells,
      await measure(
        [
          httpCell(ctx.load, {
            key: 'ba.session',
            label: 'Better Auth GET get-session',
            url: plain.baseUrl,
            connections: ME_CONNECTIONS,
            workload: { kind: 'static', requests: session(plainCookies) },
          }),
          httpCell(ctx.load, {
            key: 'ba.session-cache',
            label: 'Better Auth GET get-session (cookie cache)',
            url: cached.baseUrl,
            connections: ME_CONNECTIONS,
            workload: { kind: 'static', requests: session(cachedCookies) },
          }),
          httpCell(ctx.load, {
            key: 'gk.me.vs-ba',
            label: 'Gatekeeper GET /auth/me (next to Better Auth)',
            url: gk.baseUrl,
            connections: ME_CONNECTIONS,
            workload: { kind: 'static', requests: meRequests(gkTokens) },
          }),
        ],
        ctx.timing,
        ctx.log,
      ),
    );
    ctx.results.extra.better_auth = {
      pool_max: 30,
      rate_limit: 'off',
      cookie_cache_max_age_s: 300,
      password_hash: 'node:crypto scrypt N=16384 r=16 p=1 dkLen=64 (Better Auth default)',
    };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}
