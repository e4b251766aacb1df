/**
 * Writes the audit trail (issue 5, point 5). Events carry names, ids, addresses,
 * reasons and before/after values that callers pick field by field: never a
 * password, hash or token. A failed write is logged and swallowed, because the
 * operation it describes has already happened and must not be reported as failed.
 */
import type { Store, UserRecord } from '../store/store.js';
import type { AuditEventType } from '../core/audit-events.js';

export interface AuditSubject {
  username: string | null;
  userId: string | null;
}

export interface AuditEntry extends AuditSubject {
  event: AuditEventType;
  at: Date;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export class AuditTrail {
  constructor(
    private readonly store: Store,
    private readonly log?: { error(obj: object, msg: string): void },
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.store.recordAuditEvent({
        at: entry.at,
        event: entry.event,
        username: entry.username,
        userId: entry.userId,
        ip: entry.ip ?? null,
        detail: entry.detail ?? {},
      });
    } catch (err) {
      this.log?.error({ err, event: entry.event }, 'could not write the audit trail');
    }
  }
}

export function subjectOf(user: Pick<UserRecord, 'id' | 'username'>): AuditSubject {
  return { username: user.username, userId: user.id };
}

/** The fields of an account change worth auditing, as `{field: {before, after}}`; metadata only as changed. */
export function describeChanges(before: UserRecord, after: UserRecord): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const fields = [
    ['username', 'username'],
    ['email', 'email'],
    ['email_verified', 'emailVerified'],
    ['role', 'role'],
    ['is_active', 'isActive'],
    ['profile_picture_url', 'profilePictureUrl'],
  ] as const;
  for (const [name, key] of fields) {
    if (before[key] !== after[key]) changes[name] = { before: before[key], after: after[key] };
  }
  // Free-form data: its content may be large and personal, and the event only needs to say it changed.
  if (JSON.stringify(before.metadata) !== JSON.stringify(after.metadata)) changes.metadata = { changed: true };
  return changes;
}
