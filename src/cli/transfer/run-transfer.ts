/**
 * The shared body of migrate-users, import and export: open both ends, make the
 * target ready, copy with progress, report. The last line on stdout is always
 * `copied N, skipped N, failed N`; the exit code is 1 when anything failed.
 */
import type { OnConflict } from '../../store/user-batch-plan.js';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo } from '../command.js';
import { createProgress } from '../progress.js';
import { redactSecrets } from '../redact.js';
import { copyUsers, type CopyTotals, type UserSink, type UserSource } from './copy-users.js';
import { describeEndpoint, openSink, openSource, sameEndpoint, type Endpoint } from './endpoints.js';

export interface TransferOptions {
  batchSize: number;
  onConflict: OnConflict;
  /** export: the target file must be new. */
  freshTarget?: boolean;
}

/** Failures listed one per line; beyond this only their number. */
const LISTED_FAILURES = 20;

export async function runTransfer(io: CliIo, from: Endpoint, to: Endpoint, options: TransferOptions): Promise<number> {
  if (sameEndpoint(from, to)) throw new UsageError(`--from and --to are the same: ${describeEndpoint(from)}`);
  let source: UserSource | undefined;
  let sink: UserSink | undefined;
  try {
    source = await openSource(from);
    io.out(`from: ${source.description}`);
    sink = await openSink(to, { fresh: options.freshTarget ?? false });
    io.out(`to: ${sink.description}`);
    await sink.prepare();
    const total = await source.count();
    io.out(`${total} users to copy, in batches of ${options.batchSize} (existing users: ${options.onConflict})`);
    const progress = createProgress(io, total);
    const { totals, abortedBy } = await copyUsers(source, sink, { ...options, onProgress: (t) => progress.update(t) });
    progress.done(totals);
    reportFailures(io, totals);
    if (totals.updated > 0) io.out(`${totals.updated} of the copied users replaced existing ones`);
    io.out(`copied ${totals.copied}, skipped ${totals.skipped}, failed ${totals.failed}`);
    if (abortedBy) {
      io.err(`gatekeeper: stopped early: ${abortedBy.message} Run the same command again to resume.`);
      return EXIT_FAILED;
    }
    return totals.failed > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    await sink?.close();
    await source?.close();
  }
}

function reportFailures(io: CliIo, totals: CopyTotals): void {
  for (const failure of totals.failures.slice(0, LISTED_FAILURES)) {
    io.err(`failed: ${failure.label}: ${redactSecrets(failure.reason)}`);
  }
  if (totals.failures.length > LISTED_FAILURES) {
    io.err(`failed: … only the first ${LISTED_FAILURES} failures are listed (${totals.failed} users failed in all)`);
  }
}
