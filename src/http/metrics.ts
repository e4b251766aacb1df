import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { WorkQueue } from '../security/work-queue.js';
import type { PoolFigures } from '../store/store.js';
import type { MailFigures } from '../mail/mailer.js';

export interface Metrics {
  registry: Registry;
  /** Counts a finished request and its duration (called from the app's onResponse hook). */
  observe(request: FastifyRequest, reply: FastifyReply): void;
}

/** Prometheus metrics for one app instance (its own registry, so several apps can live in one process). */
export function createMetrics(deps: {
  /** The pool's figures at scrape time (AuthService.poolFigures), null without a pool. */
  poolFigures: () => PoolFigures | null;
  hashQueue: WorkQueue;
  /** The mailer's running totals; absent: no mail metrics. */
  mailFigures?: () => MailFigures;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatekeeper_' });
  const http = new HttpRequestMetrics();
  // The registry formats any metric object with a name, help, type and get() (its own
  // Counter and Histogram are such objects); its types only name its own classes.
  registry.registerMetric(http.requestsTotal as unknown as Metric);
  registry.registerMetric(http.durationSeconds as unknown as Metric);
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
      const pool = deps.poolFigures();
      if (!pool) return;
      this.set({ state: 'total' }, pool.total);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });

  const mail = deps.mailFigures;
  if (mail) {
    registry.registerMetric(
      figureCounter('gatekeeper_mails_sent_total', 'Mails delivered (SMTP or outbox)', () => mail().sent),
    );
    registry.registerMetric(
      figureCounter(
        'gatekeeper_mail_send_failures_total',
        'Mails given up after their last attempt, or dropped',
        () => mail().failed,
      ),
    );
  }

  return {
    registry,
    observe(request, reply) {
      // The route pattern, never the raw URL: bounded label cardinality.
      http.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    },
  };
}

/** A counter read from a running total kept elsewhere (the mailer counts without knowing prom-client). */
function figureCounter(name: string, help: string, value: () => number): Metric {
  const metric = {
    name,
    help,
    type: 'counter' as const,
    aggregator: 'sum' as const,
    get: async () => ({ ...metric, values: [{ labels: {}, value: value() }] }),
  };
  return metric as unknown as Metric;
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface RequestCount {
  labels: { method: string; route: string; status: string };
  value: number;
}

interface DurationSeries {
  labels: { method: string; route: string };
  /** Per bucket of DURATION_BUCKETS (not cumulative), then one for +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * The request counter and duration histogram, kept as plain numbers and turned into
 * Prometheus series only when /metrics is read. prom-client's own Counter and
 * Histogram hash the label set on every call, which was a visible share of a fast
 * request; the output is the same text.
 */
class HttpRequestMetrics {
  readonly #counts = new Map<string, RequestCount>();
  readonly #durations = new Map<string, DurationSeries>();

  readonly requestsTotal = {
    name: 'gatekeeper_http_requests_total',
    help: 'HTTP requests by route and status',
    type: 'counter' as const,
    aggregator: 'sum' as const,
    get: async () => ({ ...this.requestsTotal, values: [...this.#counts.values()] }),
  };

  readonly durationSeconds = {
    name: 'gatekeeper_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    get: async () => ({ ...this.durationSeconds, values: [...this.#durations.values()].flatMap(histogramValues) }),
  };

  observe(method: string, route: string, status: number, seconds: number): void {
    const countKey = `${method} ${route} ${status}`;
    const count = this.#counts.get(countKey);
    if (count) count.value += 1;
    else this.#counts.set(countKey, { labels: { method, route, status: String(status) }, value: 1 });

    const durationKey = `${method} ${route}`;
    let series = this.#durations.get(durationKey);
    if (!series) {
      series = {
        labels: { method, route },
        buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.#durations.set(durationKey, series);
    }
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket += 1;
    series.buckets[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }
}

function histogramValues(series: DurationSeries) {
  const name = 'gatekeeper_http_request_duration_seconds';
  let cumulative = 0;
  const buckets = series.buckets.map((n, i) => {
    cumulative += n;
    const le = i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf';
    return { metricName: `${name}_bucket`, labels: { ...series.labels, le }, value: cumulative };
  });
  return [
    ...buckets,
    { metricName: `${name}_sum`, labels: series.labels, value: series.sum },
    { metricName: `${name}_count`, labels: series.labels, value: series.count },
  ];
}
