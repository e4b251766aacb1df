/** The audit facet on PostgreSQL (src/store/contract/audit.ts): the SQL of table `audit_events`. */
import type { AuditEventType } from '../../../core/audit-events.js';
import { UUID_PATTERN } from '../../../core/limits.js';
import type { AuditEventRecord, AuditStore } from '../../contract/audit.js';
import type { Executor } from '../executor.js';

const COLUMNS = 'id, at, event, username, user_id, ip, detail';

const SQL = {
  insert: {
    text: `INSERT INTO audit_events (at, event, username, user_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
  },
  list: {
    text: `SELECT ${COLUMNS} FROM audit_events
      WHERE (($1::text IS NULL AND $2::uuid IS NULL) OR lower(username) = lower($1) OR user_id = $2)
        AND ($3::text IS NULL OR event = $3)
        AND ($4::timestamptz IS NULL OR at >= $4)
      ORDER BY at DESC, id DESC LIMIT $5`,
  },
  purge: { text: 'DELETE FROM audit_events WHERE at < $1' },
};

interface AuditRow {
  id: string; // BIGSERIAL arrives as a string; ids stay far below 2^53
  at: Date;
  event: string;
  username: string | null;
  user_id: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

function toAuditEvent(row: AuditRow): AuditEventRecord {
  return {
    id: Number(row.id),
    at: row.at,
    event: row.event as AuditEventType,
    username: row.username,
    userId: row.user_id,
    ip: row.ip,
    detail: row.detail ?? {},
  };
}

/** @example const audit = createPostgresAudit(db); */
export function createPostgresAudit(db: Executor): AuditStore {
  return {
    async recordAuditEvent(event) {
      await db.query(SQL.insert, [
        event.at.toISOString(),
        event.event,
        event.username,
        event.userId !== null && UUID_PATTERN.test(event.userId) ? event.userId : null,
        event.ip,
        JSON.stringify(event.detail),
      ]);
    },

    async listAuditEvents(query) {
      const userId = query.userId !== undefined && UUID_PATTERN.test(query.userId) ? query.userId : null;
      // An id that cannot exist matches nothing, rather than dropping the filter.
      if (query.userId !== undefined && userId === null && query.username === undefined) return [];
      const { rows } = await db.query<AuditRow>(SQL.list, [
        query.username ?? null,
        userId,
        query.event ?? null,
        query.since?.toISOString() ?? null,
        Math.max(0, Math.trunc(query.limit)),
      ]);
      return rows.map(toAuditEvent);
    },

    async purgeAuditEvents(before) {
      const result = await db.query(SQL.purge, [before.toISOString()]);
      return result.rowCount ?? 0;
    },
  };
}
