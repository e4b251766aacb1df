/**
 * Issue 6 point 6: p50/p99 of login, GET /auth/me and the admin search GET /auth/users?q=
 * with 1 thousand, 100 thousand and 1 million users (quick: up to 100 thousand), bulk-loaded
 * with SQL (generate_series, one precomputed cheap Argon2id hash for everybody). The service is
 * the bench launcher with the same cheap parameters (so logins verify, and never rehash, that
 * hash): what grows with the table is then visible instead of hidden behind a 50 ms hash.
 * At the largest size the search statements are captured (POSTGRES_ECHO) and EXPLAIN ANALYZEd;
 * if search misses its goal, a trigram index is tried as a what-if and measured too.
 */
import { readFileSync } from 'node:fs';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { BenchContext } from '../lib/context.js';
import { getText, login, loginAll, PASSWORD } from '../lib/http.js';
import { httpCell } from '../lib/load.js';
import { measure } from '../lib/measure.js';
import type { Service } from '../lib/process.js';
import { ME_CONNECTIONS, meRequests } from './me.js';

/** Argon2id m=1 MiB, t=1, p=1: about a millisecond. */
const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const LAUNCHER = 'bench/cluster-launcher.ts';
const SAMPLE = 64;
const SEARCH_CONNECTIONS = 4;
const LOGIN_CONNECTIONS = 8;
const CHUNK = 250_000;

export function scaleSizes(maxUsers: number): number[] {
  const sizes = [1_000, 100_000, 1_000_000].filter((s) => s <= maxUsers);
  if (sizes[sizes.length - 1] !== maxUsers) sizes.push(maxUsers);
  return sizes;
}

const userName = (n: number) => `user${n}`;

async function bulkLoad(ctx: BenchContext, url: string, hash: string, from: number, to: number): Promise<number> {
  const started = Date.now();
  for (let start = from; start <= to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK - 1);
    await ctx.db.query(
      url,
      `INSERT INTO users (username, password_hash, email, role, is_active, created_at, updated_at, metadata)
       SELECT 'user' || g, $1, 'user' || g || '@bench.example', 'regular', true,
              timestamp '2025-01-01' + g * interval '1 second', timestamp '2025-01-01' + g * interval '1 second', '{}'::jsonb
       FROM generate_series($2::int, $3::int) AS g`,
      [hash, start, end],
    );
    ctx.log(`  loaded users ${start}–${end}`);
  }
  await ctx.db.query(url, 'VACUUM ANALYZE users');
  return (Date.now() - started) / 1000;
}

/** Search terms: 5-digit substrings, a few matches per million (the API's q is "contains"). */
function searchTerms(count: number): string[] {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: count }, () => String(10_000 + Math.floor(next() * 90_000)));
}

interface ExplainedStatement {
  sql: string;
  params: unknown[];
  plan: string[];
}

/** Runs one search on a POSTGRES_ECHO service, takes the statements it logged, EXPLAIN ANALYZEs them. */
async function explainSearch(ctx: BenchContext, url: string, q: string): Promise<ExplainedStatement[]> {
  const echo = await ctx.startGatekeeper(
    'gatekeeper-scale-echo',
    url,
    { BENCH_HASH_PARAMS: '1024,1,1', POSTGRES_ECHO: 'true' },
    LAUNCHER,
  );
  try {
    const admin = await login(echo.baseUrl, 'benchadmin');
    await getText(`${echo.baseUrl}/auth/users?q=${q}`, { authorization: `Bearer ${admin.access}` });
    const statements: { sql: string; params: unknown[] }[] = [];
    for (const line of readFileSync(echo.logFile, 'utf8').split('\n')) {
      let entry: { sql?: string; msg?: string };
      try {
        entry = JSON.parse(line) as { sql?: string; msg?: string };
      } catch {
        continue;
      }
      // The statement is in `sql` or in the message itself, depending on how the logger is wired.
      const text = typeof entry.sql === 'string' ? entry.sql : (entry.msg ?? '');
      const match = /^SQL: (.*?)(?: -- params: (\[.*\]))?$/.exec(text);
      if (match && /ILIKE/i.test(match[1]!))
        statements.push({ sql: match[1]!, params: JSON.parse(match[2] ?? '[]') as unknown[] });
    }
    const out: ExplainedStatement[] = [];
    for (const s of statements) {
      const { rows } = await ctx.db.query<{ 'QUERY PLAN': string }>(
        url,
        `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`,
        s.params,
      );
      out.push({ ...s, plan: rows.map((r) => r['QUERY PLAN']) });
    }
    if (out.length === 0) ctx.results.notes.push('scale: no search statement found in the POSTGRES_ECHO log');
    return out;
  } finally {
    await echo.stop();
  }
}

export async function scaleScenario(ctx: BenchContext): Promise<void> {
  const maxUsers = Number((ctx.results.extra.run as { max_users?: number } | undefined)?.max_users ?? 1_000_000);
  const sizes = scaleSizes(maxUsers);
  const url = await ctx.db.create('gk_scale');
  const cheapHash = await argon2Hash(PASSWORD, { ...CHEAP, algorithm: 2 });
  const extra: Record<string, unknown> = { sizes, cheap_hash: CHEAP, load_seconds: {} as Record<number, number> };
  ctx.results.extra.scale = extra;
  let gk: Service | null = null;
  try {
    gk = await ctx.startGatekeeper(
      'gatekeeper-scale',
      url,
      { BENCH_HASH_PARAMS: '1024,1,1', GATEKEEPER_ADMIN_USERNAME: 'benchadmin', GATEKEEPER_ADMIN_PASSWORD: PASSWORD },
      LAUNCHER,
    );
    const admin = await login(gk.baseUrl, 'benchadmin');
    const terms = searchTerms(64);
    const searchCell = (key: string, label: string) =>
      httpCell(ctx.load, {
        key,
        label,
        url: gk!.baseUrl,
        connections: SEARCH_CONNECTIONS,
        workload: {
          kind: 'static',
          requests: terms.map((q) => ({
            method: 'GET',
            path: `/auth/users?q=${q}`,
            headers: { authorization: `Bearer ${admin.access}` },
          })),
        },
      });
    let loaded = 0;
    for (const size of sizes) {
      ctx.log(`scale: loading users ${loaded + 1}–${size}`);
      (extra.load_seconds as Record<number, number>)[size] = await bulkLoad(ctx, url, cheapHash, loaded + 1, size);
      loaded = size;
      const sample = Array.from({ length: SAMPLE }, (_, i) => userName(Math.floor(((i + 0.5) * size) / SAMPLE) + 1));
      const tokens = await loginAll(gk.baseUrl, sample);
      const label = size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`;
      ctx.log(`scale: ${label} users`);
      Object.assign(
        ctx.results.cells,
        await measure(
          [
            httpCell(ctx.load, {
              key: `scale.${size}.login`,
              label: `login, ${label} users (cheap hash)`,
              url: gk.baseUrl,
              connections: LOGIN_CONNECTIONS,
              workload: {
                kind: 'static',
                requests: sample.map((username) => ({
                  method: 'POST',
                  path: '/auth/login',
                  body: JSON.stringify({ username, password: PASSWORD }),
                })),
              },
            }),
            httpCell(ctx.load, {
              key: `scale.${size}.me`,
              label: `GET /auth/me, ${label} users`,
              url: gk.baseUrl,
              connections: ME_CONNECTIONS,
              workload: { kind: 'static', requests: meRequests(tokens) },
            }),
            searchCell(`scale.${size}.search`, `GET /auth/users?q=, ${label} users`),
          ],
          ctx.timing,
          ctx.log,
        ),
      );
    }
    const largest = sizes[sizes.length - 1]!;
    extra.explain = await explainSearch(ctx, url, terms[0]!);
    const p99 = ctx.results.cells[`scale.${largest}.search`]?.p99.median ?? 0;
    const usesTrigram = JSON.stringify(extra.explain).includes('trgm');
    if (p99 >= 50 && !usesTrigram) {
      ctx.log('scale: search misses 50 ms p99; what-if: pg_trgm GIN indexes on username and email');
      const started = Date.now();
      await ctx.db.query(url, 'CREATE EXTENSION IF NOT EXISTS pg_trgm');
      await ctx.db.query(url, 'CREATE INDEX bench_users_username_trgm ON users USING gin (username gin_trgm_ops)');
      await ctx.db.query(url, 'CREATE INDEX bench_users_email_trgm ON users USING gin (email gin_trgm_ops)');
      await ctx.db.query(url, 'ANALYZE users');
      extra.trigram_index_build_seconds = (Date.now() - started) / 1000;
      const label = largest >= 1e6 ? `${largest / 1e6}M` : `${largest / 1e3}k`;
      Object.assign(
        ctx.results.cells,
        await measure(
          [searchCell(`scale.${largest}.search-trgm`, `GET /auth/users?q=, ${label}, what-if trigram`)],
          ctx.timing,
          ctx.log,
        ),
      );
      extra.explain_trigram = await explainSearch(ctx, url, terms[0]!);
    }
  } finally {
    await gk?.stop();
  }
}
