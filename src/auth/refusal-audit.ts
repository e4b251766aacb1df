/**
 * Audit rows for refused attempts, aggregated (point 4 of "safe on the internet,
 * round two"): a locked account hammered 300 times must not add 300 rows. The first
 * refusal of a key writes its row at once; later ones within the interval are only
 * counted, and the count goes into the key's next row: the one written when a
 * refusal arrives after the interval, at the interval's end (a timer), or at
 * close(). Every row carries `refusals`, how many refused attempts it stands for,
 * so the rows of a key always add up to its refusals.
 */
import type { AuditEntry, AuditTrail } from './audit-trail.js';

/** Default length of an aggregation interval. */
export const REFUSAL_INTERVAL_SECONDS = 60;
/** Keys tracked at once; past it the oldest is written out early (a spray over many names stays bounded). */
const MAX_OPEN = 10_000;

interface OpenInterval {
  startedAt: number;
  /** Refusals counted since the last row was written. */
  pending: number;
  /** The latest refusal, whose time, address and subject the next row takes. */
  latest: AuditEntry;
}

/** Aggregates refusal rows per key; see the module comment. */
export class RefusalAudit {
  readonly #open = new Map<string, OpenInterval>();
  #timer: NodeJS.Timeout | undefined;
  /** After close(), every refusal is written at once: requests still in flight lose nothing either. */
  #closed = false;

  constructor(
    private readonly audit: AuditTrail,
    private readonly now: () => Date,
    readonly intervalSeconds = REFUSAL_INTERVAL_SECONDS,
  ) {}

  /** Records one refusal of `key` (writes a row, or counts it for the key's next row). */
  async record(key: string, entry: AuditEntry): Promise<void> {
    if (this.#closed) return this.#write(entry, 1);
    const at = entry.at.getTime();
    const open = this.#open.get(key);
    if (open && at - open.startedAt < this.intervalSeconds * 1000) {
      open.pending += 1;
      open.latest = entry;
      return;
    }
    const refusals = 1 + (open?.pending ?? 0);
    this.#open.delete(key);
    if (this.#open.size >= MAX_OPEN) await this.#writeOldest();
    this.#open.set(key, { startedAt: at, pending: 0, latest: entry });
    this.#startTimer();
    await this.#write(entry, refusals);
  }

  /** Writes every counted refusal whose interval has ended (the timer's job; tests call it with their clock). */
  async flushDue(): Promise<void> {
    const now = this.now().getTime();
    for (const [key, open] of [...this.#open]) {
      if (now - open.startedAt < this.intervalSeconds * 1000) continue;
      this.#open.delete(key);
      if (open.pending > 0) await this.#write(open.latest, open.pending);
    }
  }

  /** Writes every counted refusal now and stops the timer (and aggregating): nothing counted is lost on close. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(open.filter((o) => o.pending > 0).map((o) => this.#write(o.latest, o.pending)));
  }

  #startTimer(): void {
    if (this.#timer) return;
    // Started on the first refusal, not at import or construction; unref'd so it never keeps a process alive.
    this.#timer = setInterval(() => void this.flushDue(), this.intervalSeconds * 1000);
    this.#timer.unref();
  }

  async #writeOldest(): Promise<void> {
    const [key, open] = this.#open.entries().next().value!;
    this.#open.delete(key);
    if (open.pending > 0) await this.#write(open.latest, open.pending);
  }

  #write(entry: AuditEntry, refusals: number): Promise<void> {
    return this.audit.record({ ...entry, detail: { ...entry.detail, refusals } });
  }
}
