/**
 * The change table of cache invalidations (migration 0009, `gatekeeper_invalidations`): how a
 * message is written, how old rows are purged, and the poller that reads new rows for an instance
 * that cannot LISTEN (behind a transaction pooler). ./notifications.ts decides when it is used.
 */
import type { Executor } from './executor.js';

/** How often a polling instance reads new rows: a revocation reaches it within this plus one query. */
export const POLL_INTERVAL_MS = 250;
/**
 * The poller counts as alive only this long after its last successful read: past it the cache
 * serves nothing cached, so a stalled poller never stretches a revocation beyond one second.
 */
export const POLL_FRESH_MS = 1_000;
/**
 * A row whose id was skipped (its INSERT took its id before, and committed after, a higher one we
 * already read; or a rolled-back publish) is looked for this long before the hole is forgotten.
 */
export const GAP_GRACE_MS = 10_000;
/** At most this many holes are remembered (a sequence jumps by up to 32 after a crash). */
const MAX_GAPS = 1_000;
/** Rows older than this are deleted; every instance purges, cheaply, on a slow timer. */
export const PURGE_AGE_SECONDS = 60;
export const PURGE_INTERVAL_MS = 30_000;

/**
 * One statement: the row for polling instances and the NOTIFY for listening ones, in one
 * transaction, so nobody can hear one without the other being there.
 */
export const PUBLISH_SQL = `WITH m AS (INSERT INTO gatekeeper_invalidations (message) VALUES ($2) RETURNING id)
SELECT pg_notify($1, $2) FROM m`;

/** Deletes the rows older than PURGE_AGE_SECONDS; returns how many went. */
export async function purgeInvalidations(db: Pick<Executor, 'query'>): Promise<number> {
  const result = await db.query(
    `DELETE FROM gatekeeper_invalidations WHERE created_at < now() - make_interval(secs => $1)`,
    [PURGE_AGE_SECONDS],
  );
  return result.rowCount ?? 0;
}

export interface InvalidationPoller {
  /** True while the last successful read is younger than POLL_FRESH_MS. */
  readonly alive: boolean;
  /** One read now (after the one in flight, if any); resolves once its rows were handled. Never throws. */
  pollNow(): Promise<void>;
  stop(): void;
}

export interface PollerHandlers {
  message(message: string): void;
  /** Messages may have been missed (reads failed or stalled): drop everything. */
  reset(): void;
  log(line: string): void;
}

/**
 * Starts reading `gatekeeper_invalidations` from its current highest id (what came before was
 * published before this process could have cached anything), every POLL_INTERVAL_MS.
 * Throws if the first read fails (no table, no database).
 */
export async function startInvalidationPoller(db: Executor, handlers: PollerHandlers): Promise<InvalidationPoller> {
  const start = await db.query<{ last: string }>(
    'SELECT coalesce(max(id), 0)::text AS last FROM gatekeeper_invalidations',
  );
  let last = BigInt(start.rows[0]?.last ?? '0');
  // id → when we stop looking for it.
  const gaps = new Map<bigint, number>();
  let lastOkAt = Date.now();
  let failing = false;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const read = async (): Promise<void> => {
    const now = Date.now();
    for (const [id, until] of gaps) if (until < now) gaps.delete(id);
    let rows: Array<{ id: string; message: string }>;
    try {
      const result = await db.query<{ id: string; message: string }>(
        `SELECT id::text AS id, message FROM gatekeeper_invalidations
          WHERE id > $1::bigint OR id = ANY($2::bigint[]) ORDER BY id`,
        [last.toString(), [...gaps.keys()].map(String)],
      );
      rows = result.rows;
    } catch (err) {
      if (stopped) return; // closing: the pool is going away under the last read
      if (!failing) {
        failing = true;
        handlers.reset();
        handlers.log(
          `cache invalidation: cannot read gatekeeper_invalidations (${(err as Error).message}); caching is off until it can`,
        );
      }
      return;
    }
    const stale = Date.now() - lastOkAt > POLL_FRESH_MS;
    if (failing || stale) {
      // The cache stopped serving while reads failed or stalled; a read that raced with the
      // recovery must not store what it loaded before: start from nothing.
      handlers.reset();
      if (failing) handlers.log('cache invalidation: reading gatekeeper_invalidations again; caching is back on');
      failing = false;
    }
    lastOkAt = Date.now();
    for (const row of rows) {
      const id = BigInt(row.id);
      if (id > last) {
        for (let hole = last + 1n; hole < id && gaps.size < MAX_GAPS; hole += 1n) {
          gaps.set(hole, lastOkAt + GAP_GRACE_MS);
        }
        last = id;
      } else {
        gaps.delete(id);
      }
      handlers.message(row.message);
    }
  };

  const pollNow = (): Promise<void> => {
    inFlight = inFlight.then(read);
    return inFlight;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pollNow().then(schedule);
    }, POLL_INTERVAL_MS);
    timer.unref();
  };
  schedule();

  return {
    get alive() {
      return !failing && Date.now() - lastOkAt <= POLL_FRESH_MS;
    },
    pollNow,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
