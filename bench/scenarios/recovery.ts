/**
 * Issue 13's hot path, as issue 17 point 4 asks: POST /auth/password/forgot for accounts that
 * exist and for names that do not, on one service, interleaved. The answers must be alike in
 * time (the enumeration defence: a 60 ms floor covers the found path's database work), so the
 * ratio of the two p50s should be 1 within noise. The per-address limit is lifted for the run
 * (every request comes from 127.0.0.1); the per-account mail budget stays as it is, so past the
 * first 3 mails an account takes the path a flood takes.
 */
import type { BenchContext } from '../lib/context.js';
import { registerUsers, usernames } from '../lib/http.js';
import { httpCell } from '../lib/load.js';
import { measure, type Cell } from '../lib/measure.js';
import type { RequestSpec } from '../lib/types.js';

export const FORGOT_CONNECTIONS = 32;
const USERS = 32;

export async function recoveryScenario(ctx: BenchContext): Promise<void> {
  const url = await ctx.db.create('gk_recovery');
  const service = await ctx.startGatekeeper('gatekeeper-recovery', url, {
    GATEKEEPER_FORGOT_IP_MAX_REQUESTS: '1000000000',
  });
  try {
    const users = ctx.smoke ? 4 : USERS;
    const known = usernames(`r${ctx.nonce}_`, users);
    await registerUsers(service.baseUrl, known);
    const unknown = usernames(`nobody${ctx.nonce}_`, users);
    const requests = (names: string[]): RequestSpec[] =>
      names.map((username) => ({
        method: 'POST',
        path: '/auth/password/forgot',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username }),
      }));
    ctx.results.extra.recovery = { users, connections: FORGOT_CONNECTIONS };
    const cells: Cell[] = [
      httpCell(ctx.load, {
        key: 'gk.forgot.known',
        label: 'Gatekeeper POST /auth/password/forgot, existing accounts',
        url: service.baseUrl,
        connections: FORGOT_CONNECTIONS,
        workload: { kind: 'static', requests: requests(known) },
      }),
      httpCell(ctx.load, {
        key: 'gk.forgot.unknown',
        label: 'Gatekeeper POST /auth/password/forgot, unknown names',
        url: service.baseUrl,
        connections: FORGOT_CONNECTIONS,
        workload: { kind: 'static', requests: requests(unknown) },
      }),
    ];
    ctx.log('forgot-password: existing accounts vs unknown names');
    Object.assign(ctx.results.cells, await measure(cells, ctx.timing, ctx.log));
  } finally {
    await service.stop();
  }
}
