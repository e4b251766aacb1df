/** Shapes shared by the orchestrator and its helper processes. */

/** One bounded run of one measurement: what happened inside the measured window. */
export interface RunResult {
  /** Successful operations (2xx responses, or completed hashes) finished inside the window. */
  ok: number;
  /** ok ÷ window seconds. */
  rate: number;
  /** Latency of the successful operations in the window, milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /** Non-2xx responses in the window plus connection errors and timeouts of the whole run. */
  failed: number;
  statusCodes: Record<string, number>;
  windowSec: number;
}

/**
 * A run lasts `durationSec`; only operations that finish after `leadInSec` count, so
 * every figure is a steady-state one (no ramp-up while the first hashes are in flight).
 */
export interface RunTiming {
  durationSec: number;
  leadInSec: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the load generator sends. */
export type Workload =
  /** A fixed list of requests, sent in turn by every connection (prebuilt once: no per-request cost). */
  | { kind: 'static'; requests: RequestSpec[] }
  /** `{n}` in path and body is replaced by a number never used before in this load process. */
  | { kind: 'unique'; request: RequestSpec }
  /** Refresh-token rotation: each request spends one token from a shared pool, each answer adds the new one. */
  /** The pool lives in the load process under `poolId` from the first run on, so later runs go on rotating. */
  | { kind: 'refresh'; path: string; poolId: string; tokens: string[] };

export interface LoadCommand extends RunTiming {
  url: string;
  connections: number;
  timeoutSec?: number;
  workload: Workload;
}
