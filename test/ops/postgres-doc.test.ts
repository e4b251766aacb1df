/**
 * docs/POSTGRES.md stays true to the code: its commands parse, its troubleshooting
 * messages are the ones the service prints, its schema is the migrations' schema.
 * (The commands themselves are run by the other tests of test/ops and test/cli.)
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCommand } from '../../src/cli/registry.js';
import { describeConnectionError } from '../../src/store/postgres/errors.js';
import { loadMigrations } from '../../src/store/postgres/migrator.js';
import { configSource } from '../support/config-source.js';
import { ROOT } from '../support/process.js';

const doc = await readFile(path.join(ROOT, 'docs/POSTGRES.md'), 'utf8');
const MIGRATIONS = path.join(ROOT, 'src/store/postgres/migrations');

/** The contents of every fenced block of a language. */
function blocks(language: string): string[] {
  return [...doc.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

/** Enough of shell word splitting for the guide's commands: quotes, and "$VAR" kept as a word. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** The default target of the guide: reynard@localhost:5432/reynard. */
const TARGET = { user: 'reynard', host: 'localhost', port: 5432, database: 'reynard' };
const failure = (code: string | undefined, message = 'x') => Object.assign(new Error(message), code ? { code } : {});
const MESSAGES = [
  failure('ECONNREFUSED'),
  failure('ENOTFOUND'),
  failure(undefined, 'Connection terminated due to connection timeout'),
  failure('28P01'),
  failure('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "reynard", database "reynard", SSL encryption'),
  failure('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "reynard", database "reynard", no encryption'),
  failure('3D000'),
  failure('42501', 'permission denied for schema public'),
  failure(undefined, 'The server does not support SSL connections'),
  failure('SELF_SIGNED_CERT_IN_CHAIN'),
  failure('ERR_TLS_CERT_ALTNAME_INVALID'),
  failure('53300'),
  failure(undefined, 'timeout exceeded when trying to connect'),
  failure('57P03'),
  failure('25006', 'cannot execute INSERT in a read-only transaction'),
  failure('55P03', 'canceling statement due to lock timeout'),
  failure('57014', 'canceling statement due to statement timeout'),
  failure(undefined, 'Query read timeout'),
].map((err) => describeConnectionError(err, TARGET));

describe('docs/POSTGRES.md', () => {
  it('every gatekeeper command in it parses with the options the CLI has', () => {
    const commands = blocks('bash')
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => /(^|\s)npx gatekeeper /.test(line));
    expect(commands.length).toBeGreaterThanOrEqual(10);
    for (const line of commands) {
      const argv = words(line.slice(line.indexOf('npx gatekeeper ') + 'npx gatekeeper '.length));
      expect(() => resolveCommand(argv), line).not.toThrow();
      expect(resolveCommand(argv).kind, line).toBe('run');
    }
  });

  it('quotes the troubleshooting messages exactly as the service prints them', () => {
    const quoted = blocks('text').flatMap((block) => block.split('\n').map((line) => line.trim()));
    for (const message of MESSAGES) expect(quoted, message).toContain(message);
    // …and no other (stale) message of that kind.
    const connectionLines = quoted.filter((l) => /^(Cannot connect to|PostgreSQL at|No free connection)/.test(l));
    for (const line of connectionLines) expect(MESSAGES).toContain(line);
    expect(quoted).toContain(
      'gatekeeper: cannot start: PostgreSQL at localhost:5432: permission denied for schema public. On PostgreSQL 15+ the role needs to own the database: ALTER DATABASE reynard OWNER TO reynard; (or run gatekeeper setup-postgres --all).',
    );
  });

  it('shows the users table of the first migration and names every table the migrations create', async () => {
    const [first] = await loadMigrations();
    const table = (text: string) => /CREATE TABLE users \([\s\S]*?\n\);/.exec(text)?.[0];
    expect(table(doc)).toBeDefined();
    expect(table(doc)).toBe(table(first?.sql ?? ''));
    for (const file of await readdir(MIGRATIONS)) {
      const text = await readFile(path.join(MIGRATIONS, file), 'utf8');
      for (const [, name] of text.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g)) {
        expect(doc, `table ${name} of ${file}`).toContain(`\`${name}\``);
      }
    }
    expect(doc).toContain(`schema up to date (${(await loadMigrations()).length} migrations)`);
  });

  it('lists every database setting of the configuration', async () => {
    const config = await configSource();
    const names = [...config.matchAll(/\bread\.\w+\(\s*'((?:DATABASE|POSTGRES)_[A-Z0-9_]*)'/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of [...names, 'GATEKEEPER_BACKEND', 'GATEKEEPER_DATA_DIR']) expect(doc).toContain(`| \`${name}\``);
  });
});
