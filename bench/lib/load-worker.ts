/**
 * The load generator: a process of its own (started by lib/load.ts), so that the client's CPU
 * use is neither the orchestrator's nor the service's. It drives autocannon and keeps every
 * response time itself (autocannon's histogram rounds to whole milliseconds).
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { latencySummary } from './stats.js';
import { serveRpc } from './rpc.js';
import type { LoadCommand, RequestSpec, RunResult } from './types.js';

let unique = 0;
const refreshPools = new Map<string, string[]>();

function toRequest(spec: RequestSpec): autocannon.Request {
  return {
    method: spec.method,
    path: spec.path,
    headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
    ...(spec.body !== undefined ? { body: spec.body } : {}),
  };
}

function requestsFor(command: LoadCommand): autocannon.Request[] {
  const w = command.workload;
  if (w.kind === 'static') return w.requests.map(toRequest);
  if (w.kind === 'unique') {
    const base = toRequest(w.request);
    return [
      {
        ...base,
        setupRequest: (req) => {
          unique += 1;
          const n = String(unique);
          return {
            ...req,
            path: w.request.path.replaceAll('{n}', n),
            ...(w.request.body !== undefined ? { body: w.request.body.replaceAll('{n}', n) } : {}),
          };
        },
      },
    ];
  }
  const pool = refreshPools.get(w.poolId) ?? [...w.tokens];
  refreshPools.set(w.poolId, pool);
  return [
    {
      method: 'POST',
      path: w.path,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh_token: pool.pop() ?? 'pool-empty' }) }),
      onResponse: (status, body) => {
        if (status !== 200) return;
        try {
          pool.unshift((JSON.parse(body) as { refresh_token: string }).refresh_token);
        } catch {
          // A malformed answer loses one token; the run counts it as a success all the same.
        }
      },
    },
  ];
}

async function run(command: LoadCommand): Promise<RunResult> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let failed = 0;
  const start = performance.now();
  const from = start + command.leadInSec * 1000;
  const to = start + command.durationSec * 1000;
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: command.url,
        connections: command.connections,
        duration: command.durationSec,
        timeout: command.timeoutSec ?? 30,
        requests: requestsFor(command),
      },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    const now = performance.now();
    if (now < from || now > to) return;
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else failed += 1;
  });
  const result = await done;
  const windowSec = (Math.min(to, start + result.duration * 1000) - from) / 1000;
  const { p50, p99, max } = latencySummary(latencies);
  return {
    ok: latencies.length,
    rate: latencies.length / windowSec,
    p50,
    p99,
    max,
    failed: failed + result.errors,
    statusCodes: {
      ...statusCodes,
      ...(result.errors ? { errors: result.errors } : {}),
      ...(result.timeouts ? { timeouts: result.timeouts } : {}),
    },
    windowSec,
  };
}

serveRpc(async (command) => run(command as unknown as LoadCommand));
