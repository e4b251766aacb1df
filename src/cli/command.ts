/**
 * The shape every `gatekeeper` subcommand has, and the usage mistake the CLI
 * reports itself (exit 2). A check or operation that fails for a reason its message
 * explains completely throws OperationProblem (src/store/postgres/operation-problem.ts): exit 1.
 * Exit codes are a contract for scripts: 0 ok, 1 failed, 2 usage.
 */
import type { ParseArgsConfig } from 'node:util';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** `serve` keeps the process alive; every other command ends with an exit code. */
export type CommandResult = number | 'running';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command may touch: its output streams, its input, and the environment (only for loadConfig). */
export interface CliIo {
  /** One line to stdout (results a script may read). */
  out(line: string): void;
  /** One line to stderr (progress, warnings, errors). */
  err(line: string): void;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

export interface ParsedArgs {
  /** Options declared `multiple: true` are arrays. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line(s) and a description, shown by --help. */
  help: string;
  options: OptionSpec;
  /** Names of the positional arguments, in order; a trailing `?` marks an optional one. */
  positionals?: string[];
  /** A group such as `users`: the next word picks one of these. */
  subcommands?: Command[];
  run?(args: ParsedArgs, io: CliIo): Promise<CommandResult>;
}

/** The user asked for something the CLI cannot parse: exit 2 with a hint to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly commandPath: string[] = [],
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A string option, or undefined when absent. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Every value of an option declared `{ type: 'string', multiple: true }`, in order; empty when absent. */
export function listOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** A whole-number option within [min, max]; a usage error otherwise. */
export function wholeOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  }
  return n;
}

/** An option limited to a few words; a usage error otherwise. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const found = allowed.find((a) => a === text);
  if (found === undefined) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(text)})`);
  }
  return found;
}
