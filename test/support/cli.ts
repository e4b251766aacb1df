/**
 * Runs `gatekeeper` command lines: in this process through runCli with injected IO
 * (`runGatekeeper`, for what a command does), or as the real command in a child
 * process (`spawnGatekeeper`, `serve`: node bin/gatekeeper.js, as `npx gatekeeper`
 * does) for what only a process shows. Plus a few admin helpers for tests that
 * create roles and databases of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { inject } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/run.js';
import { ROOT } from './process.js';

export interface CliResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; stdin is closed at once without it. */
  input?: string;
  /** Only for a spawned command: killed (code 'timeout') when it runs longer. */
  timeoutMs?: number;
}

/** Only what the command needs: the developer's DATABASE_URL or POSTGRES_* must not leak into a test. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'silent', ...env };
}

/**
 * One command line in this process, as bin/gatekeeper.js would run it but with the
 * streams and environment injected: a piped (not a terminal) stdin holding `input`,
 * stdout and stderr collected, and only the given environment for loadConfig.
 * @example const { code, stdout } = await runGatekeeper(['users', 'list'], { env });
 */
export async function runGatekeeper(args: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stderrStream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      stderr += chunk.toString();
      done();
    },
  });
  const input = options.input === undefined ? [] : [Buffer.from(options.input)];
  const io: CliIo = {
    out: (line) => (stdout += `${line}\n`),
    err: (line) => (stderr += `${line}\n`),
    // Neither stream is a terminal (isTTY undefined), as with spawnGatekeeper's pipes.
    stdin: Readable.from(input) as unknown as NodeJS.ReadStream,
    stderr: stderrStream as unknown as NodeJS.WriteStream,
    env: cleanEnv(options.env),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/**
 * The real command in a child process: for what only a process shows (bin wiring, exit of a
 * failed start, signals, a terminal).
 * @example const { code, stdout } = await spawnGatekeeper(['--help']);
 */
export async function spawnGatekeeper(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['bin/gatekeeper.js', ...args], {
    cwd: ROOT,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // the command may exit before reading its input
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (c, s) => {
      clearTimeout(timer);
      resolve(c ?? s ?? 'unknown');
    });
  });
  return { code, stdout, stderr };
}

export interface ServedGatekeeper {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  stop(): Promise<number | string>;
}

/** `gatekeeper serve` on a free port; resolves once the start line names the port. */
export async function serve(env: Record<string, string>, timeoutMs = 90_000): Promise<ServedGatekeeper> {
  const child = spawn(process.execPath, ['bin/gatekeeper.js', 'serve'], {
    cwd: ROOT,
    env: cleanEnv({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(c ?? s ?? 'unknown')));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatekeeper serve did not start:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gatekeeper serve exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs statements as the test run's superuser, in database `postgres` unless another is named. */
export async function asAdmin(statements: string[], database?: string): Promise<pg.QueryResult[]> {
  const url = new URL(inject('adminDatabaseUrl'));
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const results: pg.QueryResult[] = [];
    for (const sql of statements) results.push(await client.query(sql));
    return results;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A role name and database name nobody else uses, and the server of the run. */
export function scratchAccount(prefix: string) {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new URL(inject('adminDatabaseUrl'));
  return {
    name,
    password: `Pw-${randomBytes(9).toString('base64url')}`,
    host: admin.hostname,
    port: admin.port || '5432',
    adminUrl: admin.toString(),
    /** Drops the database (closing its connections) and then the role; safe when they were never made. */
    drop: () => asAdmin([`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `DROP ROLE IF EXISTS ${name}`]),
  };
}
