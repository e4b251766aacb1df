/**
 * `gatekeeper import <file>`: users from a JSON Lines export into the configured
 * store (migrate-users --from jsonl:<file> --to <the configured database>).
 */
import path from 'node:path';
import type { Command } from '../command.js';
import { loadCliConfig } from '../context.js';
import { configuredEndpoint } from '../transfer/endpoints.js';
import { runTransfer } from '../transfer/run-transfer.js';
import { transferOptions } from './migrate-users.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'add users from a JSON Lines file to the configured store',
  help: [
    'Usage: gatekeeper import <file> [--on-conflict skip|update] [--batch-size N]',
    '',
    'Copies the users of a file written by `gatekeeper export` (one JSON object per line)',
    'into the store the service is configured for, password hashes included. Users already',
    'there (same id or username) are skipped, or overwritten with --on-conflict update.',
  ].join('\n'),
  options: { 'on-conflict': { type: 'string' }, 'batch-size': { type: 'string' } },
  positionals: ['file'],
  async run(args, io) {
    const [file = ''] = args.positionals;
    const target = configuredEndpoint(loadCliConfig(io));
    return runTransfer(io, { kind: 'jsonl', file: path.resolve(file) }, target, transferOptions(args));
  },
};
