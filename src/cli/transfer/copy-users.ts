/**
 * The copy loop of migrate-users, import and export: batches from a source, each
 * written by the sink all-or-nothing, counted as copied, skipped or failed.
 * A batch the sink refuses is rolled back and counted failed as a whole, and the
 * copy goes on; losing the database ends the copy (the next run resumes: users
 * already copied are found and skipped).
 */
import { GatekeeperError } from '../../errors.js';
import type { UserRecord } from '../../store/store.js';
import type { OnConflict } from '../../store/user-batch-plan.js';

/** Something that could not be copied, for the report: a label (never a secret) and why. */
export interface Failure {
  label: string;
  reason: string;
}

export interface SourceBatch {
  users: UserRecord[];
  /** Rows of the source that are not valid users (counted as failed). */
  rejected: Failure[];
}

export interface UserSource {
  /** For messages: where the users come from, without any password. */
  description: string;
  /** How many rows the source holds, for the progress bar. */
  count(): Promise<number>;
  batches(size: number): AsyncIterable<SourceBatch>;
  close(): Promise<void>;
}

export interface SinkOutcome {
  inserted: number;
  updated: number;
  skipped: number;
  failures: { user: UserRecord; reason: string }[];
}

export interface UserSink {
  description: string;
  /** Makes the target ready (schema migrations, reading an existing file). */
  prepare(): Promise<void>;
  /** All or nothing per call. */
  write(users: UserRecord[], onConflict: OnConflict): Promise<SinkOutcome>;
  /** Called once after the last batch when nothing ended the copy early. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

export interface CopyTotals {
  processed: number;
  copied: number;
  /** Of `copied`, how many replaced existing users (--on-conflict update). */
  updated: number;
  skipped: number;
  /** Users that could not be copied (a rolled-back batch counts all of its users). */
  failed: number;
  /** The first failures with their reasons, for the report (a batch failure is one entry). */
  failures: Failure[];
}

export interface CopyOptions {
  batchSize: number;
  onConflict: OnConflict;
  onProgress?: (totals: CopyTotals) => void;
}

export interface CopyResult {
  totals: CopyTotals;
  /** What ended the copy early (the database went away), or null when every batch was tried. */
  abortedBy: Error | null;
}

const label = (user: UserRecord) => `user "${user.username}" (id ${user.id})`;
/** Failures kept for the report; beyond this only the count grows (a bad source can have millions). */
const MAX_LISTED_FAILURES = 100;

function recordFailures(totals: CopyTotals, failures: Failure[]): void {
  totals.failed += failures.length;
  const room = MAX_LISTED_FAILURES - totals.failures.length;
  if (room > 0) totals.failures.push(...failures.slice(0, room));
}

/** @example const { totals } = await copyUsers(source, sink, { batchSize: 500, onConflict: 'skip' }); */
export async function copyUsers(source: UserSource, sink: UserSink, options: CopyOptions): Promise<CopyResult> {
  const totals: CopyTotals = { processed: 0, copied: 0, updated: 0, skipped: 0, failed: 0, failures: [] };
  let batchNumber = 0;
  try {
    for await (const batch of source.batches(options.batchSize)) {
      batchNumber += 1;
      recordFailures(totals, batch.rejected);
      if (batch.users.length > 0) await writeBatch(sink, batch.users, batchNumber, options, totals);
      totals.processed += batch.users.length + batch.rejected.length;
      options.onProgress?.(totals);
    }
    await sink.finish();
    return { totals, abortedBy: null };
  } catch (err) {
    if (isUnavailable(err)) return { totals, abortedBy: err as Error };
    throw err;
  }
}

async function writeBatch(
  sink: UserSink,
  users: UserRecord[],
  batchNumber: number,
  options: CopyOptions,
  totals: CopyTotals,
): Promise<void> {
  try {
    const outcome = await sink.write(users, options.onConflict);
    totals.copied += outcome.inserted + outcome.updated;
    totals.updated += outcome.updated;
    totals.skipped += outcome.skipped;
    recordFailures(
      totals,
      outcome.failures.map((f) => ({ label: label(f.user), reason: f.reason })),
    );
  } catch (err) {
    if (isUnavailable(err)) throw err;
    // Rolled back whole: none of these users was written, so all of them count as failed.
    const first = users[0];
    const last = users[users.length - 1];
    const range = first && last ? `, users "${first.username}" … "${last.username}"` : '';
    // The count goes to `failed` for every user, the explanation once for the batch.
    recordFailures(totals, [
      {
        label: `batch ${batchNumber} (${users.length} users${range})`,
        reason: `rolled back: ${(err as Error).message.split('\n', 1)[0]}`,
      },
    ]);
    totals.failed += users.length - 1;
  }
}

function isUnavailable(err: unknown): boolean {
  return err instanceof GatekeeperError && err.code === 'DATABASE_UNAVAILABLE';
}
