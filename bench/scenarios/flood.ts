/**
 * Issue 6 point 7: 500 concurrent logins at MEDIUM (128 MiB per hash). Samples the service's
 * VmRSS/VmHWM from /proc every 50 ms and probes /health/live every 100 ms (from this process,
 * with a 1 s timeout) throughout; budget = base + hash concurrency × 128 MiB + 64 MiB.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchContext } from '../lib/context.js';
import { PASSWORD, registerUsers, usernames } from '../lib/http.js';
import { httpCell } from '../lib/load.js';
import { measure } from '../lib/measure.js';
import { readMemory, sampleMemory } from '../lib/process.js';
import { latencySummary, median } from '../lib/stats.js';

export const FLOOD_CONNECTIONS = 500;
const MEDIUM_MIB = 128;

/** Polls a URL until stopped; counts answers other than 200 within `timeoutMs` as failures. */
function probe(url: string, everyMs: number, timeoutMs: number) {
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await r.arrayBuffer();
        if (r.status === 200) latencies.push(performance.now() - t0);
        else failures += 1;
      } catch {
        failures += 1;
      }
      await delay(Math.max(0, everyMs - (performance.now() - t0)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { probes: latencies.length + failures, failures, ...latencySummary(latencies) };
    },
  };
}

export async function floodScenario(ctx: BenchContext): Promise<void> {
  const url = await ctx.db.create('gk_flood');
  const gk = await ctx.startGatekeeper('gatekeeper-flood', url, { GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'MEDIUM' });
  try {
    const names = usernames(`f${ctx.nonce}_`, 16);
    await registerUsers(gk.baseUrl, names);
    await delay(1000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      samples.push(readMemory(gk.pid)?.rssMiB ?? Number.NaN);
      await delay(200);
    }
    const base = median(samples);
    const hashConcurrency = Number(process.env.GATEKEEPER_HASH_CONCURRENCY) || os.availableParallelism();
    const budget = base + hashConcurrency * MEDIUM_MIB + 64;
    ctx.log(
      `flood: base RSS ${base.toFixed(0)} MiB, budget ${budget.toFixed(0)} MiB (hash concurrency ${hashConcurrency})`,
    );

    const memory = sampleMemory(gk.pid, 50);
    const live = probe(`${gk.baseUrl}/health/live`, 100, 1000);
    const cells = await measure(
      [
        httpCell(ctx.load, {
          key: 'flood.login',
          label: `login flood, MEDIUM (${FLOOD_CONNECTIONS} connections)`,
          url: gk.baseUrl,
          connections: FLOOD_CONNECTIONS,
          timeoutSec: 60,
          // Up to 64 queued logins outlive each run (about 10 s of MEDIUM hashing on 2 cores): let them drain.
          settleMs: 10_000,
          workload: {
            kind: 'static',
            requests: names.map((username) => ({
              method: 'POST',
              path: '/auth/login',
              body: JSON.stringify({ username, password: PASSWORD }),
            })),
          },
        }),
      ],
      ctx.timing,
      ctx.log,
      { warmupSec: 0, durationSec: ctx.smoke ? 2 : ctx.quick ? 5 : 12, leadInSec: 0 },
    );
    const peak = memory.stop();
    const liveness = await live.stop();
    Object.assign(ctx.results.cells, cells);
    const flood = cells['flood.login']!;
    ctx.results.extra.flood = {
      connections: FLOOD_CONNECTIONS,
      hash_concurrency: hashConcurrency,
      base_rss_mib: base,
      peak_rss_mib: Math.max(peak.peakRssMiB, peak.hwmMiB),
      peak_sampled_rss_mib: peak.peakRssMiB,
      vm_hwm_mib: peak.hwmMiB,
      memory_samples: peak.samples,
      budget_mib: budget,
      live_probes: liveness.probes,
      live_failures: liveness.failures,
      live_p50_ms: liveness.p50,
      live_p99_ms: liveness.p99,
      live_max_ms: liveness.max,
      status_codes: flood.statusCodes,
    };
    ctx.log(
      `flood: peak RSS ${Math.max(peak.peakRssMiB, peak.hwmMiB).toFixed(0)} MiB of ${budget.toFixed(0)}; /health/live ${liveness.failures} failures of ${liveness.probes}`,
    );
  } finally {
    await gk.stop();
  }
}
