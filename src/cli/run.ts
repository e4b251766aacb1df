/**
 * Runs one command line and turns every outcome into an exit code and, for
 * failures, one line on stderr: `gatekeeper: <detail> (<CODE>)` for the project's
 * errors (as the API reports them), the plain message for usage and check failures.
 */
import { ConfigError } from '../config.js';
import { GatekeeperError } from '../errors.js';
import { OperationProblem } from '../store/postgres/operation-problem.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, type CliIo, type CommandResult } from './command.js';
import { resolveCommand } from './registry.js';
import { redactSecrets } from './redact.js';

/**
 * @example const code = await runCli(['users', 'list'], processIo());
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<CommandResult> {
  try {
    const resolved = resolveCommand(argv);
    if (resolved.kind === 'help') {
      io.out(resolved.text);
      return EXIT_OK;
    }
    if (!resolved.command.run) throw new UsageError('this command needs a subcommand', resolved.path);
    try {
      return await resolved.command.run(resolved.args, io);
    } catch (err) {
      // Options checked inside a command point at that command's --help too.
      if (err instanceof UsageError && err.commandPath.length === 0) throw new UsageError(err.message, resolved.path);
      throw err;
    }
  } catch (err) {
    return reportFailure(err, io);
  }
}

export function reportFailure(err: unknown, io: CliIo): number {
  if (err instanceof UsageError) {
    io.err(`gatekeeper: ${err.message}`);
    io.err(`Run 'gatekeeper ${[...err.commandPath, '--help'].join(' ')}' for usage.`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    // The same words and exit code as `npm start` with a bad setting.
    io.err(`gatekeeper: ${err.message}`);
    return EXIT_USAGE;
  }
  if (err instanceof GatekeeperError) {
    io.err(`gatekeeper: ${describeGatekeeperError(err)} (${err.code})`);
    return EXIT_FAILED;
  }
  if (err instanceof OperationProblem) {
    io.err(`gatekeeper: ${err.message}`);
    return EXIT_FAILED;
  }
  // A bug or an unexpected driver error: one line, never a stack (it could quote a statement with values).
  const message = err instanceof Error ? err.message : String(err);
  io.err(`gatekeeper: unexpected error: ${redactSecrets(message.split('\n', 1)[0] ?? '')}`);
  return EXIT_FAILED;
}

/** A validation error with several fields names them all, as the API's `errors` list does. */
function describeGatekeeperError(err: GatekeeperError): string {
  if (!err.errors || err.errors.length < 2) return err.message;
  return `${err.message} ${err.errors.map((e) => `${e.field}: ${e.message}`).join(' ')}`;
}

/** The real process streams. */
export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    stdin: process.stdin,
    stderr: process.stderr,
    env: process.env,
  };
}
