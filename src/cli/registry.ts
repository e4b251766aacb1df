/**
 * argv → command. Pure (no I/O), so tests and the docs check can resolve command
 * lines without running anything. Every command and subcommand answers --help.
 */
import { parseArgs } from 'node:util';
import { UsageError, type Command, type ParsedArgs } from './command.js';
import { clientsCommand } from './commands/clients.js';
import { exportCommand } from './commands/export.js';
import { healthCommand } from './commands/health.js';
import { importCommand } from './commands/import.js';
import { keysCommand } from './commands/keys.js';
import { mailCommand } from './commands/mail.js';
import { migrateUsersCommand } from './commands/migrate-users.js';
import { serveCommand } from './commands/serve.js';
import { setupPostgresCommand } from './commands/setup-postgres.js';
import { usersCommand } from './commands/users.js';

export const COMMANDS: readonly Command[] = [
  serveCommand,
  setupPostgresCommand,
  usersCommand,
  clientsCommand,
  migrateUsersCommand,
  exportCommand,
  importCommand,
  healthCommand,
  keysCommand,
  mailCommand,
];

export type Resolved =
  { kind: 'help'; text: string } | { kind: 'run'; command: Command; path: string[]; args: ParsedArgs };

/**
 * Finds the command named by `argv` (without `node` and the script) and parses its options.
 * @throws UsageError for an unknown command, an unknown option or a wrong number of arguments.
 * @example resolveCommand(['users', 'list', '--limit', '10'])
 */
export function resolveCommand(argv: readonly string[]): Resolved {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    return { kind: 'help', text: mainHelp() };
  }
  let command = COMMANDS.find((c) => c.name === first);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  const path = [command.name];
  let args = rest;
  while (command.subcommands) {
    const [word, ...more] = args;
    if (word === undefined || word === '--help' || word === '-h') return { kind: 'help', text: groupHelp(command) };
    const sub: Command | undefined = command.subcommands.find((c) => c.name === word);
    if (!sub) throw new UsageError(`unknown ${command.name} command ${JSON.stringify(word)}`, path);
    command = sub;
    path.push(sub.name);
    args = more;
  }
  const parsed = parse(command, args, path);
  if (parsed.values.help === true) return { kind: 'help', text: commandHelp(command) };
  return { kind: 'run', command, path, args: parsed };
}

function parse(command: Command, args: string[], path: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // node:util's messages are precise ("Unknown option '--x'"); only the advice about `--` is noise here.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(message, path);
  }
  const values = parsed.values as ParsedArgs['values'];
  if (values.help !== true) checkPositionals(command, parsed.positionals, path);
  return { values, positionals: parsed.positionals };
}

function checkPositionals(command: Command, given: string[], path: string[]): void {
  const names = command.positionals ?? [];
  const required = names.filter((n) => !n.endsWith('?'));
  if (given.length < required.length) {
    throw new UsageError(`missing <${required[given.length]}>`, path);
  }
  if (given.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`, path);
  }
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: gatekeeper <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes its database from the same environment as the service',
    '(DATABASE_URL, POSTGRES_*, GATEKEEPER_BACKEND, GATEKEEPER_DATA_DIR).',
    "Run 'gatekeeper <command> --help' for a command's options.",
    'Exit codes: 0 ok, 1 failed, 2 usage error.',
  ].join('\n');
}

function groupHelp(group: Command): string {
  const subs = group.subcommands ?? [];
  const width = Math.max(...subs.map((c) => c.name.length));
  return [
    group.help,
    '',
    'Commands:',
    ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run 'gatekeeper ${group.name} <command> --help' for a command's options.`,
  ].join('\n');
}

function commandHelp(command: Command): string {
  return `${command.help}\n\nRun 'gatekeeper --help' for all commands.`;
}
