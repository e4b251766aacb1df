/** The throttle facet on PostgreSQL (src/store/contract/throttle.ts): the SQL of table `login_failures`. */
import type { LoginFailures, ThrottleStore } from '../../contract/throttle.js';
import { one, type Executor } from '../executor.js';

const COLUMNS = 'key, count, first_at, last_at';
/** A window that opened at or before this instant has closed ($2 = now, $3 = window seconds). */
const WINDOW_START = '($2::timestamptz - make_interval(secs => $3::double precision))';

const SQL = {
  record: {
    // One atomic upsert: concurrent failures on several instances all count, and a
    // closed window restarts at this failure instead of adding to it.
    text: `INSERT INTO login_failures AS f (key, count, first_at, last_at) VALUES ($1, 1, $2, $2)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN f.first_at <= ${WINDOW_START} THEN 1 ELSE f.count + 1 END,
        first_at = CASE WHEN f.first_at <= ${WINDOW_START} THEN $2 ELSE f.first_at END,
        last_at = CASE WHEN f.first_at <= ${WINDOW_START} THEN $2 ELSE greatest(f.last_at, $2) END
      RETURNING ${COLUMNS}`,
  },
  get: { text: `SELECT ${COLUMNS} FROM login_failures WHERE key = ANY($1::text[]) AND first_at > ${WINDOW_START}` },
  clear: { text: 'DELETE FROM login_failures WHERE key = $1' },
  purge: {
    text: `DELETE FROM login_failures WHERE first_at <= ($1::timestamptz - make_interval(secs => $2::double precision))`,
  },
};

interface FailureRow {
  key: string;
  count: number;
  first_at: Date;
  last_at: Date;
}

function toFailures(row: FailureRow): LoginFailures {
  return { key: row.key, count: row.count, firstAt: row.first_at, lastAt: row.last_at };
}

/** @example const throttle = createPostgresThrottle(db); */
export function createPostgresThrottle(db: Executor): ThrottleStore {
  return {
    async recordLoginFailure(key, now, windowSeconds) {
      const { rows } = await db.query<FailureRow>(SQL.record, [key, now.toISOString(), windowSeconds]);
      return toFailures(one(rows));
    },

    async getLoginFailures(keys, now, windowSeconds) {
      if (keys.length === 0) return [];
      const { rows } = await db.query<FailureRow>(SQL.get, [[...keys], now.toISOString(), windowSeconds]);
      return rows.map(toFailures);
    },

    async clearLoginFailures(key) {
      await db.query(SQL.clear, [key]);
    },

    async purgeLoginFailures(now, windowSeconds) {
      const result = await db.query(SQL.purge, [now.toISOString(), windowSeconds]);
      return result.rowCount ?? 0;
    },
  };
}
