/**
 * Issue 11 ("Gatekeeper as a library"), its performance part:
 *
 * - the verifier's local verification (`createVerifier`) against raw jose `jwtVerify` with the
 *   same key, on real access tokens from a Gatekeeper of this run: EdDSA with the key from its
 *   JWKS (what other services use) and HS256 with the shared secret; both in one plain Node
 *   process (bench/baselines/verify-raw.ts), alternating run by run;
 * - a host's Fastify route behind the plugin's `app.authenticate` against the same route without
 *   it, in one host app (bench/baselines/host-plugin.ts) on a PostgreSQL database of this run,
 *   both loaded with the same connections and the same bearer headers, interleaved.
 */
import type { VerifyAlgorithm, VerifyCommand, VerifyImpl } from '../baselines/verify-raw.js';
import { BENCH_SECRET, type BenchContext } from '../lib/context.js';
import { getText, loginAll, registerUsers, usernames } from '../lib/http.js';
import { helperCell, httpCell, type Helper } from '../lib/load.js';
import { measure, type Cell } from '../lib/measure.js';
import { GATEKEEPER_READY, type Service } from '../lib/process.js';
import { startRpcChild } from '../lib/rpc.js';
import type { RequestSpec } from '../lib/types.js';
import { ME_CONNECTIONS } from './me.js';

/** Verifications in flight in the verify process (as the raw hashes: enough to keep the thread pool busy). */
export const VERIFY_CONCURRENCY = 8;
/** Distinct tokens (sessions) verified in turn, and sessions of the host app's users; fewer in a smoke run. */
export const TOKENS = 64;
const USERS = 16;
const sizes = (ctx: BenchContext) => (ctx.smoke ? { users: 4, tokens: 8 } : { users: USERS, tokens: TOKENS });
const ISSUER = 'https://gatekeeper.bench.example';
const AUDIENCE = 'bench-service';
const ALGORITHMS: readonly VerifyAlgorithm[] = ['EdDSA', 'HS256'];

export async function libraryScenario(ctx: BenchContext): Promise<void> {
  await verifierVsJose(ctx);
  await pluginHookVsPlain(ctx);
}

async function verifierVsJose(ctx: BenchContext): Promise<void> {
  const url = await ctx.db.create('gk_library_tokens');
  const services: Service[] = [];
  let verify: Helper | undefined;
  try {
    const claimsEnv = { GATEKEEPER_ISSUER: ISSUER, GATEKEEPER_AUDIENCE: AUDIENCE };
    // One database, one set of users; each instance signs its own way.
    const eddsa = await ctx.startGatekeeper('gatekeeper-eddsa', url, {
      ...claimsEnv,
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
    });
    services.push(eddsa);
    const hs256 = await ctx.startGatekeeper('gatekeeper-hs256', url, {
      ...claimsEnv,
      GATEKEEPER_JWT_ALGORITHM: 'HS256',
    });
    services.push(hs256);
    const { users, tokens: count } = sizes(ctx);
    const names = usernames(`v${ctx.nonce}_`, users);
    await registerUsers(eddsa.baseUrl, names);
    const perUser = Math.ceil(count / users);
    const tokens: Record<VerifyAlgorithm, string[]> = {
      EdDSA: (await loginAll(eddsa.baseUrl, names, perUser)).map((t) => t.access),
      HS256: (await loginAll(hs256.baseUrl, names, perUser)).map((t) => t.access),
    };
    const jwksUrl = `${eddsa.baseUrl}/.well-known/jwks.json`;
    const jwks = JSON.parse(await getText(jwksUrl)) as { keys: { kid?: string; alg?: string; crv?: string }[] };
    ctx.results.extra.library = {
      verify_concurrency: VERIFY_CONCURRENCY,
      tokens: count,
      token_bytes: Object.fromEntries(ALGORITHMS.map((a) => [a, Buffer.byteLength(tokens[a][0]!)])),
      jwks_keys: jwks.keys.map((k) => ({ alg: k.alg, crv: k.crv })),
      issuer: ISSUER,
      audience: AUDIENCE,
    };

    verify = await startRpcChild('bench/baselines/verify-raw.ts');
    const cells: Cell[] = [];
    for (const alg of ALGORITHMS) {
      const source = alg === 'HS256' ? { secret: BENCH_SECRET } : { jwksUrl };
      const common = { alg, ...source, issuer: ISSUER, audience: AUDIENCE, tokens: tokens[alg] };
      const impls: [VerifyImpl, string, string][] = [
        ['jose', `raw.jose.verify.${alg.toLowerCase()}`, `raw jose jwtVerify ${alg} (same key)`],
        [
          'verifier',
          `verifier.verify.${alg.toLowerCase()}`,
          `verifier.verify() ${alg}${alg === 'EdDSA' ? ' (JWKS)' : ''}`,
        ],
      ];
      for (const [impl, key, label] of impls) {
        cells.push(helperCell<VerifyCommand>(verify, { key, label, impl, ...common, concurrency: VERIFY_CONCURRENCY }));
      }
    }
    ctx.log('verifier.verify() vs raw jose jwtVerify, EdDSA (JWKS) and HS256');
    Object.assign(ctx.results.cells, await measure(cells, ctx.timing, ctx.log));
  } finally {
    await verify?.stop();
    await Promise.all(services.map((s) => s.stop()));
  }
}

async function pluginHookVsPlain(ctx: BenchContext): Promise<void> {
  const url = await ctx.db.create('gk_library_host');
  const host = await ctx.start({
    name: 'host-plugin',
    script: 'bench/baselines/host-plugin.ts',
    logDir: ctx.logDir,
    ready: GATEKEEPER_READY,
    env: {
      PORT: '0',
      DATABASE_URL: url,
      GATEKEEPER_SECRET_KEY: BENCH_SECRET,
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
    },
  });
  try {
    const { users, tokens: count } = sizes(ctx);
    const names = usernames(`p${ctx.nonce}_`, users);
    await registerUsers(host.baseUrl, names);
    const tokens = await loginAll(host.baseUrl, names, Math.ceil(count / users));
    // The same bearer header on both routes: parsing it is not what differs.
    const requests = (path: string): RequestSpec[] =>
      tokens.map((t) => ({ method: 'GET', path, headers: { authorization: `Bearer ${t.access}` } }));
    const plainBody = await getText(`${host.baseUrl}/plain`);
    const guardedBody = await getText(`${host.baseUrl}/guarded`, { authorization: `Bearer ${tokens[0]!.access}` });
    if (plainBody !== guardedBody)
      throw new Error(`/plain and /guarded answer differently: ${plainBody} ${guardedBody}`);
    const extra = (ctx.results.extra.library ??= {});
    Object.assign(extra, { host_body_bytes: Buffer.byteLength(plainBody), host_sessions: tokens.length });

    const cells: Cell[] = [
      httpCell(ctx.load, {
        key: 'host.plain',
        label: 'host Fastify GET /plain (no preHandler)',
        url: host.baseUrl,
        connections: ME_CONNECTIONS,
        workload: { kind: 'static', requests: requests('/plain') },
      }),
      httpCell(ctx.load, {
        key: 'host.authenticate',
        label: 'host Fastify GET /guarded (app.authenticate)',
        url: host.baseUrl,
        connections: ME_CONNECTIONS,
        workload: { kind: 'static', requests: requests('/guarded') },
      }),
    ];
    ctx.log('host route behind app.authenticate vs the same route without it');
    Object.assign(ctx.results.cells, await measure(cells, ctx.timing, ctx.log));
  } finally {
    await host.stop();
  }
}
