/**
 * Issue 6 points 3 and 4, and the pool-settings choice: GET /auth/me (64 connections) against
 * a bare Fastify route with a same-sized body, and refresh-token rotation, each with the
 * default pool (POSTGRES_POOL_SIZE=10, POSTGRES_MAX_OVERFLOW=20) and two other pool settings.
 */
import type { BenchContext } from '../lib/context.js';
import { getText, loginAll, registerUsers, usernames, type Tokens } from '../lib/http.js';
import { httpCell } from '../lib/load.js';
import type { Cell } from '../lib/measure.js';
import { measure } from '../lib/measure.js';
import type { Service } from '../lib/process.js';
import type { RequestSpec } from '../lib/types.js';

export const ME_CONNECTIONS = 64;
export const REFRESH_CONNECTIONS = 32;
export const USERS = 64;

/** Pool settings compared; `default` is the product's default and gives gk.me / gk.refresh. */
export const POOL_VARIANTS = [
  { name: 'default', size: 10, overflow: 20 },
  { name: '5+5', size: 5, overflow: 5 },
  { name: '30+30', size: 30, overflow: 30 },
] as const;

/** GET /auth/me with each token in turn (prebuilt: the client spends nothing per request). */
export function meRequests(tokens: Tokens[]): RequestSpec[] {
  return tokens.map((t) => ({ method: 'GET', path: '/auth/me', headers: { authorization: `Bearer ${t.access}` } }));
}

/** Refresh tokens needed so that no run runs dry: every run may strand one per connection. */
export function refreshTokensNeeded(ctx: BenchContext): number {
  return REFRESH_CONNECTIONS * (ctx.timing.runs + 3);
}

export async function meScenario(ctx: BenchContext): Promise<void> {
  const url = await ctx.db.create('gk_me');
  const services: Service[] = [];
  try {
    for (const v of POOL_VARIANTS) {
      const env = { POSTGRES_POOL_SIZE: String(v.size), POSTGRES_MAX_OVERFLOW: String(v.overflow) };
      services.push(await ctx.startGatekeeper(`gatekeeper-pool-${v.name}`, url, env));
    }
    const main = services[0]!;
    const names = usernames(`m${ctx.nonce}_`, USERS);
    await registerUsers(main.baseUrl, names);
    const meTokens = await loginAll(main.baseUrl, names);
    const perVariant = refreshTokensNeeded(ctx);
    ctx.log(`logging in ${perVariant * POOL_VARIANTS.length} sessions for the refresh pools`);
    const refreshTokens = await loginAll(main.baseUrl, names, Math.ceil((perVariant * POOL_VARIANTS.length) / USERS));

    // The same service with GATEKEEPER_ACCESS_LOG=true (one log line per request): what that costs.
    const accessLogged = await ctx.startGatekeeper('gatekeeper-access-log', url, { GATEKEEPER_ACCESS_LOG: 'true' });
    services.push(accessLogged);

    const body = await getText(`${main.baseUrl}/auth/me`, { authorization: `Bearer ${meTokens[0]!.access}` });
    const bare = await ctx.start({
      name: 'bare-fastify',
      script: 'bench/baselines/bare-fastify.ts',
      logDir: ctx.logDir,
      ready: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
      env: { BARE_BODY: body, PORT: '0' },
    });
    services.push(bare);
    ctx.results.extra.me = { body_bytes: Buffer.byteLength(body), users: USERS, pool_variants: POOL_VARIANTS };

    const requests = meRequests(meTokens);
    const cells: Cell[] = [
      httpCell(ctx.load, {
        key: 'bare.me',
        label: 'bare Fastify GET /auth/me (same body)',
        url: bare.baseUrl,
        connections: ME_CONNECTIONS,
        workload: { kind: 'static', requests },
      }),
    ];
    cells.push(
      httpCell(ctx.load, {
        key: 'gk.me.access-log',
        label: 'Gatekeeper GET /auth/me, GATEKEEPER_ACCESS_LOG=true',
        url: accessLogged.baseUrl,
        connections: ME_CONNECTIONS,
        workload: { kind: 'static', requests },
      }),
    );
    POOL_VARIANTS.forEach((v, i) => {
      const service = services[i]!;
      const prefix = v.name === 'default' ? 'gk' : `pool.${v.name}`;
      const suffix = v.name === 'default' ? '' : ` pool ${v.name}`;
      cells.push(
        httpCell(ctx.load, {
          key: `${prefix}.me`,
          label: `Gatekeeper GET /auth/me${suffix}`,
          url: service.baseUrl,
          connections: ME_CONNECTIONS,
          workload: { kind: 'static', requests },
        }),
        httpCell(ctx.load, {
          key: `${prefix}.refresh`,
          label: `Gatekeeper POST /auth/refresh${suffix}`,
          url: service.baseUrl,
          connections: REFRESH_CONNECTIONS,
          workload: {
            kind: 'refresh',
            path: '/auth/refresh',
            poolId: `${ctx.nonce}-${v.name}`,
            tokens: refreshTokens.slice(i * perVariant, (i + 1) * perVariant).map((t) => t.refresh),
          },
        }),
      );
    });
    ctx.log('GET /auth/me vs bare Fastify, refresh, pool settings');
    Object.assign(ctx.results.cells, await measure(cells, ctx.timing, ctx.log));
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}
