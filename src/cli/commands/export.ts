/**
 * `gatekeeper export`: every user of the configured store to a new JSON Lines file,
 * password hashes included, so the file is written with mode 0600.
 */
import path from 'node:path';
import { stringOption, type Command } from '../command.js';
import { loadCliConfig } from '../context.js';
import { configuredEndpoint } from '../transfer/endpoints.js';
import { runTransfer } from '../transfer/run-transfer.js';
import { BATCH_SIZE } from './migrate-users.js';

/** e.g. gatekeeper-users-20261127T215020Z.jsonl */
function defaultFileName(now: Date): string {
  return `gatekeeper-users-${now.toISOString().replace(/[-:]|\.\d+/g, '')}.jsonl`;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write every user to a JSON Lines file (it holds password hashes)',
  help: [
    'Usage: gatekeeper export [--out FILE]',
    '',
    'Writes every user of the configured store to FILE (default gatekeeper-users-<time>.jsonl),',
    'one JSON object per line with every column of the users table, password_hash included.',
    'The file is created with mode 0600 and must be protected like the database itself.',
    'An existing file is never overwritten.',
  ].join('\n'),
  options: { out: { type: 'string' } },
  async run(args, io) {
    const file = path.resolve(stringOption(args, 'out') ?? defaultFileName(new Date()));
    const source = configuredEndpoint(loadCliConfig(io));
    return runTransfer(
      io,
      source,
      { kind: 'jsonl', file },
      {
        batchSize: BATCH_SIZE.fallback,
        onConflict: 'skip',
        freshTarget: true,
      },
    );
  },
};
