/**
 * A load driver for the resilience scenarios: `concurrency` workers send requests over keep-alive
 * HTTP (Node's fetch, whose undici pool keeps connections open) to several service instances in
 * turn, until a duration passes or a signal/promise says stop, each request bounded by a deadline.
 *
 * Per operation it counts what was sent, the answers by status and the transport failures by code
 * (ECONNREFUSED, ECONNRESET, timeout, …), and it keeps the keys of *acknowledged* writes (say, the
 * usernames whose registration got 201) and of *indeterminate* ones (the request went out, no answer
 * came back), so a scenario can check afterwards that every acknowledged write is in the database
 * (a lost write is acknowledged but absent) and that an indeterminate one is either whole or absent.
 */

export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** A bearer token for the Authorization header. */
  token?: string;
  /** The write this request would make (a username, a "user:delta" pair…), kept on 2xx or no answer. */
  key?: string;
}

export interface Answer {
  status: number;
  /** The JSON body, or the text when it is not JSON. */
  body: unknown;
  baseUrl: string;
  latencyMs: number;
  /** The Retry-After header, when the answer has one. */
  retryAfter: string | null;
}

export interface OperationContext {
  /** Which worker (0 … concurrency-1) asks. */
  worker: number;
  /** A run-wide sequence number, unique per request: handy for unique usernames. */
  seq: number;
}

export interface Operation {
  name: string;
  /** Relative frequency among the operations; default 1. */
  weight?: number;
  /** The next request, or null when this operation has nothing to do now (no token yet, say). */
  request(ctx: OperationContext): LoadRequest | null;
  /** Whether an answer acknowledges the write (default: a 2xx status). */
  acknowledged?(answer: Answer, request: LoadRequest): boolean;
  /** Sees every answer, e.g. to keep the tokens a login returned for later operations. */
  onAnswer?(answer: Answer, request: LoadRequest): void;
}

export interface OperationStats {
  sent: number;
  /** Answers by HTTP status. */
  answered: Record<number, number>;
  /** Requests without an answer, by transport error code ('timeout' past the deadline). */
  errors: Record<string, number>;
  /** Keys of the requests whose answer acknowledged them, in order of the answers. */
  acknowledged: string[];
  /** Keys of the requests that went out and never got an answer (their outcome is unknown). */
  indeterminate: string[];
  /** Latencies of the answered requests, ms (for medians and percentiles). */
  latenciesMs: number[];
}

export interface LoadOptions {
  /** Instances to spread the requests over, round-robin; a function is read per request (restarts). */
  baseUrls: string[] | (() => string[]);
  operations: Operation[];
  /** Requests in flight at once (one per worker). */
  concurrency: number;
  /** Stop after this long (ms). At least one of durationMs, until, maxRequests must be given. */
  durationMs?: number;
  /** Stop when it aborts (an AbortSignal) or settles (a promise). */
  until?: AbortSignal | Promise<unknown>;
  /** Stop after this many requests in all. */
  maxRequests?: number;
  /** Per-request deadline (ms), default 5000: past it the request counts as the error 'timeout'. */
  requestTimeoutMs?: number;
  /**
   * Pause after a transport error (ms), default 50, so a worker facing a dead instance does not spin
   * the CPU the service being restarted needs.
   */
  errorBackoffMs?: number;
}

export interface LoadResult {
  durationMs: number;
  operations: Record<string, OperationStats>;
  /** Sent and answered by status over all operations, transport errors by code. */
  totals: { sent: number; answered: Record<number, number>; errors: Record<string, number> };
}

/**
 * Runs the load until a stop condition holds, then waits for the requests in flight and returns.
 * @example
 * const result = await runLoad({ baseUrls: [a.baseUrl, b.baseUrl], concurrency: 8, durationMs: 5000,
 *   operations: [registrations()] });
 * const lost = result.operations.register.acknowledged.filter((name) => !inDatabase.has(name));
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.durationMs === undefined && options.until === undefined && options.maxRequests === undefined) {
    throw new Error('runLoad needs durationMs, until or maxRequests');
  }
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const backoffMs = options.errorBackoffMs ?? 50;
  const stats: Record<string, OperationStats> = {};
  for (const op of options.operations) stats[op.name] = emptyStats();
  const started = Date.now();
  let stopped = false;
  const stop = () => (stopped = true);
  const timer = options.durationMs !== undefined ? setTimeout(stop, options.durationMs) : undefined;
  if (options.until instanceof AbortSignal) {
    if (options.until.aborted) stop();
    options.until.addEventListener('abort', stop, { once: true });
  } else if (options.until) {
    options.until.then(stop, stop);
  }
  const urls = typeof options.baseUrls === 'function' ? options.baseUrls : () => options.baseUrls as string[];
  const pick = weightedPicker(options.operations);
  let seq = 0;
  let turn = 0;

  const worker = async (index: number) => {
    while (!stopped && (options.maxRequests === undefined || seq < options.maxRequests)) {
      const mySeq = seq++;
      const op = pick();
      const req = op.request({ worker: index, seq: mySeq });
      if (!req) {
        // Nothing to do for this operation yet (another one has to run first): yield, not spin.
        await pause(5);
        continue;
      }
      const list = urls();
      const baseUrl = list[turn++ % list.length]!;
      const s = stats[op.name]!;
      s.sent += 1;
      const outcome = await send(baseUrl, req, timeoutMs);
      if ('status' in outcome) {
        s.answered[outcome.status] = (s.answered[outcome.status] ?? 0) + 1;
        s.latenciesMs.push(outcome.latencyMs);
        const ack = op.acknowledged ? op.acknowledged(outcome, req) : outcome.status >= 200 && outcome.status < 300;
        if (ack && req.key !== undefined) s.acknowledged.push(req.key);
        op.onAnswer?.(outcome, req);
      } else {
        s.errors[outcome.error] = (s.errors[outcome.error] ?? 0) + 1;
        if (req.key !== undefined) s.indeterminate.push(req.key);
        if (backoffMs > 0) await pause(backoffMs);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  if (timer) clearTimeout(timer);
  if (options.until instanceof AbortSignal) options.until.removeEventListener('abort', stop);
  return { durationMs: Date.now() - started, operations: stats, totals: totalsOf(stats) };
}

/**
 * One request with a deadline: the answer, or the transport error's code. Exported for scenarios
 * that need a single request counted the same way as the load's.
 */
export async function send(
  baseUrl: string,
  req: LoadRequest,
  timeoutMs = 5000,
): Promise<Answer | { error: string; latencyMs: number }> {
  const started = performance.now();
  try {
    const headers: Record<string, string> = {};
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    const response = await fetch(`${baseUrl}${req.path}`, {
      method: req.method,
      headers,
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a plain-text /metrics, say): keep the text.
    }
    return {
      status: response.status,
      body,
      baseUrl,
      latencyMs: performance.now() - started,
      retryAfter: response.headers.get('retry-after'),
    };
  } catch (err) {
    return { error: errorCode(err), latencyMs: performance.now() - started };
  }
}

/** A short name for why a request got no answer: the socket error's code, or 'timeout'. */
export function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  const cause = e?.cause;
  if (cause?.code) return cause.code;
  if (cause?.name === 'TimeoutError') return 'timeout';
  if (e?.code) return e.code;
  return cause?.name ?? e?.name ?? 'unknown';
}

/** Table rows (for report.ts printTable): one per operation, statuses and errors spelled out. */
export function loadRows(result: LoadResult): Array<Record<string, string | number>> {
  return Object.entries(result.operations).map(([name, s]) => ({
    operation: name,
    sent: s.sent,
    answered: describeCounts(s.answered),
    'no answer': describeCounts(s.errors),
    acked: s.acknowledged.length,
    'p50 ms': percentile(s.latenciesMs, 0.5).toFixed(1),
    'p99 ms': percentile(s.latenciesMs, 0.99).toFixed(1),
  }));
}

/** "201×40 409×3" (or "-" when empty). */
export function describeCounts(counts: Record<string | number, number>): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${k}×${n}`);
  return parts.length ? parts.join(' ') : '-';
}

/** The q-quantile (0…1) by nearest rank; 0 for an empty list. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function emptyStats(): OperationStats {
  return { sent: 0, answered: {}, errors: {}, acknowledged: [], indeterminate: [], latenciesMs: [] };
}

function totalsOf(stats: Record<string, OperationStats>): LoadResult['totals'] {
  const totals: LoadResult['totals'] = { sent: 0, answered: {}, errors: {} };
  for (const s of Object.values(stats)) {
    totals.sent += s.sent;
    for (const [k, n] of Object.entries(s.answered)) totals.answered[Number(k)] = (totals.answered[Number(k)] ?? 0) + n;
    for (const [k, n] of Object.entries(s.errors)) totals.errors[k] = (totals.errors[k] ?? 0) + n;
  }
  return totals;
}

function weightedPicker(operations: Operation[]): () => Operation {
  if (operations.length === 0) throw new Error('runLoad needs at least one operation');
  const total = operations.reduce((sum, op) => sum + (op.weight ?? 1), 0);
  return () => {
    let r = Math.random() * total;
    for (const op of operations) {
      r -= op.weight ?? 1;
      if (r < 0) return op;
    }
    return operations[operations.length - 1]!;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
