/**
 * `gatekeeper migrate-users`: copies users between stores with their password
 * hashes, so nobody has to register again (the seed's migration section asked
 * everyone to). Idempotent and resumable; see transfer/ for the rules.
 */
import { choiceOption, stringOption, UsageError, wholeOption, type Command, type ParsedArgs } from '../command.js';
import { parseEndpoint } from '../transfer/endpoints.js';
import { runTransfer } from '../transfer/run-transfer.js';

export const BATCH_SIZE = { fallback: 500, max: 10_000 };

export const migrateUsersCommand: Command = {
  name: 'migrate-users',
  summary: 'copy users between stores, password hashes included',
  help: [
    'Usage: gatekeeper migrate-users --from SRC --to DST [--on-conflict skip|update] [--batch-size N]',
    '',
    'Copies every user (id, username, password hash, role, email, picture URL, balance,',
    'active flag, times, metadata) so they log in with their old passwords. SRC and DST:',
    '  postgresql://user:password@host:5432/db   a PostgreSQL database',
    '  reynard+postgresql://…                    a Python Reynard Gatekeeper database (SRC only;',
    '                                            also detected by its user_metadata column)',
    '  embedded:<data dir>                       the embedded PostgreSQL of a data dir, e.g. embedded:./data',
    '  jsonl:<file>                              a JSON Lines file as written by `gatekeeper export`',
    '',
    'A PostgreSQL target gets the Gatekeeper schema first. Users already there (same id, or',
    'same username in any case) are skipped, or overwritten with --on-conflict update. Each',
    'batch (default 500 users) is written in one transaction: a failing batch is rolled back',
    'and reported. Run it again to resume. Exit 1 when any user failed.',
    'Sessions are not copied: users log in again after moving.',
  ].join('\n'),
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    'on-conflict': { type: 'string' },
    'batch-size': { type: 'string' },
  },
  async run(args, io) {
    const from = parseEndpoint(required(args, 'from'), '--from');
    const to = parseEndpoint(required(args, 'to'), '--to');
    return runTransfer(io, from, to, transferOptions(args));
  },
};

export function transferOptions(args: ParsedArgs) {
  return {
    onConflict: choiceOption(args, 'on-conflict', ['skip', 'update'] as const, 'skip'),
    batchSize: wholeOption(args, 'batch-size', BATCH_SIZE.fallback, 1, BATCH_SIZE.max),
  };
}

function required(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined) throw new UsageError(`--${name} is required`, ['migrate-users']);
  return value;
}
