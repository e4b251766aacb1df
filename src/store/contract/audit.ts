/** The audit facet of the storage contract: the audit trail. */
import type { AuditEventType } from '../../core/audit-events.js';

/** One line of the audit trail. `detail` holds names, ids, reasons and before/after values: never a secret. */
export interface NewAuditEvent {
  at: Date;
  event: AuditEventType;
  /** The user the event is about (for login failures: the name attempted). */
  username: string | null;
  userId: string | null;
  /** The client address, when the event came from a request. */
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface AuditEventRecord extends NewAuditEvent {
  id: number;
}

export interface AuditQuery {
  /** Matches the recorded username, ignoring case; with `userId` too, either one matches (renamed users). */
  username?: string;
  userId?: string;
  event?: AuditEventType;
  /** Only events at or after this time. */
  since?: Date;
  limit: number;
}

/** The audit trail: append, query, purge by age. */
export interface AuditStore {
  recordAuditEvent(event: NewAuditEvent): Promise<void>;
  /** Newest first (by time, then id), at most `query.limit`. */
  listAuditEvents(query: AuditQuery): Promise<AuditEventRecord[]>;
  /** Deletes events older than `before`; returns how many. */
  purgeAuditEvents(before: Date): Promise<number>;
}
