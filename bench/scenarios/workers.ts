/**
 * Issue 6 point 8: GET /auth/me with N worker processes against one, interleaved. Uses
 * GATEKEEPER_WORKERS of src/main.ts when it starts N workers; otherwise (or when it fails)
 * the bench's own node:cluster launcher, and the report says which.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { loginAll, registerUsers, usernames } from '../lib/http.js';
import { httpCell } from '../lib/load.js';
import { measure } from '../lib/measure.js';
import { childPids, type Service } from '../lib/process.js';
import { ROOT } from '../lib/rpc.js';
import { ME_CONNECTIONS, meRequests, USERS } from './me.js';

export async function workersScenario(ctx: BenchContext): Promise<void> {
  const n = os.availableParallelism();
  const workers = Math.max(2, n);
  const url = await ctx.db.create('gk_workers');
  const services: Service[] = [];
  try {
    const one = await ctx.startGatekeeper('gatekeeper-one', url);
    services.push(one);
    const names = usernames(`w${ctx.nonce}_`, USERS);
    await registerUsers(one.baseUrl, names);
    const tokens = await loginAll(one.baseUrl, names);

    let mode = 'GATEKEEPER_WORKERS (src/main.ts)';
    let many: Service | null = null;
    const supported = readFileSync(path.join(ROOT, 'src', 'config.ts'), 'utf8').includes('GATEKEEPER_WORKERS');
    if (supported) {
      try {
        many = await ctx.startGatekeeper(`gatekeeper-${workers}-workers`, url, { GATEKEEPER_WORKERS: String(workers) });
        // Give every worker a moment to listen, then check that they are really there.
        await delay(500);
        const children = childPids(many.pid).length;
        if (children < workers) throw new Error(`main.ts started ${children} worker processes, not ${workers}`);
      } catch (err) {
        ctx.results.notes.push(
          `GATEKEEPER_WORKERS did not give ${workers} workers (${String(err)}); used the bench launcher`,
        );
        await many?.stop();
        many = null;
      }
    }
    if (!many) {
      mode = 'bench/cluster-launcher.ts (node:cluster, GATEKEEPER_WORKERS not supported by src/main.ts)';
      many = await ctx.startGatekeeper(
        `bench-cluster-${workers}`,
        url,
        { BENCH_WORKERS: String(workers) },
        'bench/cluster-launcher.ts',
      );
    }
    services.push(many);
    ctx.results.extra.workers = { workers, cores: n, mode, processes: childPids(many.pid).length };
    ctx.log(`/auth/me with ${workers} workers (${mode}) vs one process`);
    const requests = meRequests(tokens);
    Object.assign(
      ctx.results.cells,
      await measure(
        [
          httpCell(ctx.load, {
            key: 'workers.one.me',
            label: 'Gatekeeper GET /auth/me, one process',
            url: one.baseUrl,
            connections: ME_CONNECTIONS,
            workload: { kind: 'static', requests },
          }),
          httpCell(ctx.load, {
            key: 'workers.n.me',
            label: `Gatekeeper GET /auth/me, ${workers} workers`,
            url: many.baseUrl,
            connections: ME_CONNECTIONS,
            workload: { kind: 'static', requests },
          }),
        ],
        ctx.timing,
        ctx.log,
      ),
    );
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}
