/** The audit facet in process memory (src/store/contract/audit.ts). */
import type { AuditEventRecord, AuditStore } from '../contract/audit.js';

/** @example const audit = createMemoryAudit(); */
export function createMemoryAudit(): AuditStore {
  let events: AuditEventRecord[] = [];
  let nextId = 1;

  return {
    async recordAuditEvent(event) {
      events.push({ ...structuredClone(event), id: nextId++ });
    },

    async listAuditEvents(query) {
      const username = query.username?.toLowerCase();
      const bySubject = (e: AuditEventRecord) =>
        (username === undefined && query.userId === undefined) ||
        (username !== undefined && e.username?.toLowerCase() === username) ||
        (query.userId !== undefined && e.userId === query.userId);
      return events
        .filter(
          (e) =>
            bySubject(e) &&
            (query.event === undefined || e.event === query.event) &&
            (query.since === undefined || e.at >= query.since),
        )
        .sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
        .slice(0, Math.max(0, query.limit))
        .map((e) => structuredClone(e));
    },

    async purgeAuditEvents(before) {
      const count = events.length;
      events = events.filter((e) => e.at >= before);
      return count - events.length;
    },
  };
}
