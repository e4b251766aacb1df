/**
 * Issue 6 points 1 and 2: login (8 clients) and register at LOW and MEDIUM, each
 * interleaved with raw Argon2id verifies / hashes at the same parameters and concurrency
 * in a plain Node process, with both bindings (@node-rs/argon2 and argon2).
 */
import { SECURITY_LEVELS } from '../../src/security/password-hasher.js';
import { probeModule } from '../lib/bindings.js';
import type { BenchContext } from '../lib/context.js';
import { PASSWORD, registerUsers, usernames } from '../lib/http.js';
import { hashCell, httpCell } from '../lib/load.js';
import { measure } from '../lib/measure.js';

export const HASH_CONCURRENCY = 8;
export const LEVELS = ['LOW', 'MEDIUM'] as const;
export type Level = (typeof LEVELS)[number];
export const BINDINGS = ['node-rs', 'argon2'] as const;
/** Bindings that are there only to compare with: the run goes on without them if they do not load. */
const COMPARISON_ONLY: ReadonlySet<string> = new Set(['argon2']);

/** The bindings that load on this machine; a missing comparison binding is a note, not a failure. */
function usableBindings(ctx: BenchContext): (typeof BINDINGS)[number][] {
  return BINDINGS.filter((binding) => {
    if (!COMPARISON_ONLY.has(binding)) return true;
    const probe = probeModule(binding);
    if (!probe.available) {
      const note = `${binding} binding unavailable, its rows are left out: ${probe.reason ?? 'did not load'}`;
      ctx.results.notes.push(note);
      ctx.log(note);
    }
    return probe.available;
  });
}

export async function hashingScenario(ctx: BenchContext): Promise<void> {
  const bindings = usableBindings(ctx);
  for (const level of LEVELS) {
    const params = SECURITY_LEVELS[level];
    const url = await ctx.db.create(`gk_hash_${level.toLowerCase()}`);
    const gk = await ctx.startGatekeeper(`gatekeeper-${level}`, url, { GATEKEEPER_PASSWORD_SECURITY_LEVEL: level });
    try {
      const names = usernames(`h${ctx.nonce}_`, 16);
      await registerUsers(gk.baseUrl, names);
      // Requests the client gave up on at the end of a run still hash in the service: let them finish.
      const settleMs = level === 'MEDIUM' ? 2000 : 500;
      ctx.log(`login at ${level} (m=${params.memoryCost / 1024} MiB, t=${params.timeCost}, p=${params.parallelism})`);
      const loginCells = [
        ...bindings.map((binding) =>
          hashCell(ctx.raw, {
            key: `raw.verify.${binding}.${level}`,
            label: `raw Argon2id verify ${binding} ${level}`,
            binding,
            op: 'verify',
            params,
            concurrency: HASH_CONCURRENCY,
          }),
        ),
        httpCell(ctx.load, {
          key: `gk.login.${level}`,
          label: `Gatekeeper POST /auth/login ${level}`,
          url: gk.baseUrl,
          connections: HASH_CONCURRENCY,
          settleMs,
          workload: {
            kind: 'static',
            requests: names.map((username) => ({
              method: 'POST',
              path: '/auth/login',
              body: JSON.stringify({ username, password: PASSWORD }),
            })),
          },
        }),
      ];
      Object.assign(ctx.results.cells, await measure(loginCells, ctx.timing, ctx.log));

      ctx.log(`register at ${level}`);
      const registerCells = [
        ...bindings.map((binding) =>
          hashCell(ctx.raw, {
            key: `raw.hash.${binding}.${level}`,
            label: `raw Argon2id hash ${binding} ${level}`,
            binding,
            op: 'hash',
            params,
            concurrency: HASH_CONCURRENCY,
          }),
        ),
        httpCell(ctx.load, {
          key: `gk.register.${level}`,
          label: `Gatekeeper POST /auth/register ${level}`,
          url: gk.baseUrl,
          connections: HASH_CONCURRENCY,
          settleMs,
          workload: {
            kind: 'unique',
            request: {
              method: 'POST',
              path: '/auth/register',
              body: JSON.stringify({ username: `r${ctx.nonce}_{n}`, password: PASSWORD }),
            },
          },
        }),
      ];
      Object.assign(ctx.results.cells, await measure(registerCells, ctx.timing, ctx.log));
    } finally {
      await gk.stop();
    }
  }
}
