import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError, type Command } from '../../src/cli/command.js';
import { COMMANDS, resolveCommand } from '../../src/cli/registry.js';
import { cleanEnv, runGatekeeper, spawnGatekeeper } from '../support/cli.js';
import { ROOT } from '../support/process.js';

/** Every runnable command line: `serve`, `users create`, … */
function commandPaths(commands: readonly Command[], prefix: string[] = []): string[][] {
  return commands.flatMap((c) =>
    c.subcommands ? [[...prefix, c.name], ...commandPaths(c.subcommands, [...prefix, c.name])] : [[...prefix, c.name]],
  );
}

// Commands run in-process; the process itself (bin, terminal, serve) is spawned. A real server: CI machines are slow and shared.
describe('gatekeeper command line', { timeout: 60_000 }, () => {
  it.each(commandPaths(COMMANDS).map((path) => [path.join(' '), path]))('%s --help shows its usage', (_name, path) => {
    const resolved = resolveCommand([...path, '--help']);
    expect(resolved.kind).toBe('help');
    if (resolved.kind === 'help') expect(resolved.text).toContain(`Usage: gatekeeper ${path.join(' ')}`);
  });

  it('parses the options of a command line without running it', () => {
    const resolved = resolveCommand(['users', 'list', '--role', 'admin', '--limit', '5']);
    expect(resolved.kind).toBe('run');
    if (resolved.kind === 'run') {
      expect(resolved.path).toEqual(['users', 'list']);
      expect(resolved.args.values).toMatchObject({ role: 'admin', limit: '5' });
    }
  });

  it.each([
    [['nope'], 'unknown command "nope"'],
    [['users', 'rename'], 'unknown users command "rename"'],
    [['setup-postgres', '--bogus'], "Unknown option '--bogus'"],
    [['users', 'create'], 'missing <username>'],
    [['users', 'set-role', 'alice'], 'missing <role>'],
    [['users', 'activate', 'a', 'b'], 'unexpected argument "b"'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => resolveCommand(argv)).toThrow(UsageError);
    expect(() => resolveCommand(argv)).toThrow(message);
  });

  it('bin/gatekeeper.js runs the compiled CLI: --help exits 0, a usage error exits 2 with a hint', async () => {
    const help = await spawnGatekeeper(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gatekeeper <command>');
    for (const command of COMMANDS) expect(help.stdout).toContain(command.name);

    const unknown = await spawnGatekeeper(['users', 'list', '--limit', 'ten'], {
      env: { GATEKEEPER_BACKEND: 'memory' },
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('gatekeeper: --limit must be a whole number from 1 to 1000 (got "ten")');
    expect(unknown.stderr).toContain("Run 'gatekeeper users list --help' for usage.");
  });

  it('runs as `npx gatekeeper` and `npm run gatekeeper --` from the project directory', async () => {
    const run = promisify(execFile);
    const options = { cwd: ROOT, env: cleanEnv() };
    const npx = await run('npx', ['--no-install', 'gatekeeper', 'users', '--help'], options);
    expect(npx.stdout).toContain('Usage: gatekeeper users <command>');
    const npm = await run('npm', ['run', '--silent', 'gatekeeper', '--', 'migrate-users', '--help'], options);
    expect(npm.stdout).toContain('Usage: gatekeeper migrate-users --from SRC --to DST');
  });

  it('a bad setting is exit 2 with the same message as npm start', async () => {
    const { code, stderr } = await runGatekeeper(['health'], { env: { POSTGRES_POOL_SIZE: 'ten' } });
    expect(code).toBe(2);
    expect(stderr).toContain('POSTGRES_POOL_SIZE must be a whole number ≥ 1 (got "ten")');
  });

  it('the memory backend is refused: its users live inside the service process', async () => {
    const { code, stderr } = await runGatekeeper(['users', 'list'], { env: { GATEKEEPER_BACKEND: 'memory' } });
    expect(code).toBe(2);
    expect(stderr).toContain('GATEKEEPER_BACKEND=memory keeps users inside the service process');
  });
});
