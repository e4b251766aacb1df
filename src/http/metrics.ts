import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueue } from '../security/work-queue.js';
import type { Store } from '../store/store.js';

/** Prometheus metrics for one app instance (its own registry, so several apps can live in one process). */
export function installMetrics(app: FastifyInstance, deps: { store: Store; hashQueue: WorkQueue }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatekeeper_' });
  const requests = new Counter({
    name: 'gatekeeper_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gatekeeper_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'gatekeeper_password_hash_jobs',
    help: 'Argon2 jobs running and waiting',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'running' }, deps.hashQueue.running);
      this.set({ state: 'queued' }, deps.hashQueue.queued);
    },
  });
  new Gauge({
    name: 'gatekeeper_db_pool_connections',
    help: 'Database pool connections',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const pool = (await deps.store.health()).pool;
      if (!pool) return;
      this.set({ state: 'total' }, pool.total);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: bounded label cardinality.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  return registry;
}
