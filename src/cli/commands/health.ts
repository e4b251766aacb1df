/**
 * `gatekeeper health`: the store's health() as /health reports it, for a shell or
 * a container probe that has no HTTP client. Exit 1 while the database cannot be reached.
 */
import { toHealthResponse } from '../../http/wire.js';
import { GatekeeperError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { OperationProblem } from '../../store/postgres/operation-problem.js';
import { EXIT_FAILED, EXIT_OK, type Command } from '../command.js';
import { loadCliConfig, openStoreForInspection } from '../context.js';

export const healthCommand: Command = {
  name: 'health',
  summary: 'check that the configured database answers (exit 1 if not)',
  help: [
    'Usage: gatekeeper health [--json]',
    '',
    'Connects to the configured store without changing it and prints whether it is',
    'reachable, its latency, server version and pool figures. Exit 1 when unreachable.',
    '--json prints the same JSON as GET /health (snake_case names: latency_ms, server_version…).',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  async run(args, io) {
    const config = loadCliConfig(io);
    let opened;
    try {
      opened = await openStoreForInspection(config);
    } catch (err) {
      // Not reaching the database is this command's "unhealthy" answer, not a crash.
      if (err instanceof GatekeeperError && err.code === 'DATABASE_UNAVAILABLE')
        throw new OperationProblem(err.message);
      throw err;
    }
    try {
      const health = await opened.store.health();
      if (args.values.json === true) {
        // GET /health's body, field for field, from the one wire mapping (src/http/wire.ts loads no HTTP stack).
        io.out(JSON.stringify(toHealthResponse({ backend: opened.store.kind, ...health }, VERSION)));
      } else {
        io.out(`backend: ${opened.store.kind} (${opened.location})`);
        io.out(`reachable: ${health.reachable ? 'yes' : 'no'}`);
        if (health.serverVersion !== null) io.out(`server version: ${health.serverVersion}`);
        if (health.latencyMs !== null) io.out(`latency: ${health.latencyMs} ms`);
        if (health.pool)
          io.out(
            `pool: ${health.pool.total} open, ${health.pool.idle} idle, ${health.pool.waiting} waiting, max ${health.pool.max}`,
          );
      }
      if (!health.reachable) {
        io.err(`gatekeeper: ${health.error ?? 'the database is unreachable'}`);
        return EXIT_FAILED;
      }
      return EXIT_OK;
    } finally {
      await opened.close();
    }
  },
};
