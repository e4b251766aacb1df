/**
 * A bench-only launcher doing what src/main.ts does (loadConfig → buildGatekeeper → listen,
 * the same start line), with two knobs main.ts does not have:
 * - BENCH_WORKERS=N: N node:cluster workers, each its own buildGatekeeper, on one shared port
 *   (the fallback for the several-cores scenario when GATEKEEPER_WORKERS is not supported);
 * - BENCH_HASH_PARAMS=m,t,p: Argon2id parameters (KiB, passes, lanes) instead of the level's, so
 *   that the scale scenario's bulk-loaded cheap hashes count as current (no rehash on login).
 * Needs DATABASE_URL (every worker opens its own pool; migrations run under an advisory lock).
 */
import cluster from 'node:cluster';
import { loadConfig } from '../src/config.js';
import { buildGatekeeper } from '../src/compose/build-gatekeeper.js';
import { createLogger } from '../src/logger.js';

const workers = Number(process.env.BENCH_WORKERS ?? 1);
const hashParams = parseParams(process.env.BENCH_HASH_PARAMS);
const config = loadConfig();

function parseParams(value: string | undefined) {
  if (!value) return undefined;
  const [memoryCost, timeCost, parallelism] = value.split(',').map(Number);
  if (!memoryCost || !timeCost || !parallelism) throw new Error(`BENCH_HASH_PARAMS must be m,t,p (got ${value})`);
  return { memoryCost, timeCost, parallelism };
}

if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === workers) {
      process.stdout.write(`bench cluster of ${workers} workers listening on http://${config.host}:${address.port}\n`);
    }
  });
  cluster.on('exit', (worker, code) => process.stderr.write(`worker ${worker.id} exited (${code})\n`));
  for (let i = 0; i < workers; i += 1) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 3000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
} else {
  const log = createLogger(config.logLevel);
  const gatekeeper = await buildGatekeeper(config, { logger: log, ...(hashParams ? { hashParams } : {}) });
  await gatekeeper.app.listen({ host: config.host, port: config.port });
  const address = gatekeeper.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (!cluster.isWorker) process.stdout.write(`bench launcher listening on http://${config.host}:${port}\n`);
  process.on('SIGTERM', () => void gatekeeper.close().then(() => process.exit(0)));
}
