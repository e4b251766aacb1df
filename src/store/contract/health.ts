/** The health and lifecycle facet of the storage contract: what /health reports, and closing. */

export interface PoolFigures {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface StoreHealth {
  reachable: boolean;
  latencyMs: number | null;
  serverVersion: string | null;
  pool: PoolFigures | null;
  /** One line naming the cause and the fix when unreachable; never a secret. */
  error?: string;
}

/** Which store this is, whether it answers, and how it ends. */
export interface StoreLifecycle {
  /** `memory`, `postgres` or `embedded-postgres`, as /health reports it. */
  readonly kind: 'memory' | 'postgres' | 'embedded-postgres';
  health(): Promise<StoreHealth>;
  /**
   * The connection pool's counters as they are now, without a database round trip (what
   * /metrics reports on every scrape), or null for a store without a pool.
   */
  poolFigures(): PoolFigures | null;
  close(): Promise<void>;
}
