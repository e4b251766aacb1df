/** What every scenario gets: the timing, the shared database server, the helper processes, the results. */
import type { Database } from './database.js';
import type { Helper } from './load.js';
import type { CellResult, Timing } from './measure.js';
import { GATEKEEPER_NODE_FLAGS, GATEKEEPER_READY, startService, type Service } from './process.js';

export interface Results {
  cells: Record<string, CellResult>;
  /** Figures that are not throughput cells: memory, plans, modes, sizes… keyed by scenario. */
  extra: Record<string, Record<string, unknown>>;
  notes: string[];
  errors: { scenario: string; message: string }[];
}

export interface BenchContext {
  quick: boolean;
  /** `--smoke`: every wait and load as short as it can be while still exercising the scenario. */
  smoke: boolean;
  timing: Timing;
  tmpDir: string;
  logDir: string;
  /** Distinguishes this run's usernames from any earlier run's on an external server. */
  nonce: string;
  db: Database;
  load: Helper;
  raw: Helper;
  results: Results;
  log(line: string): void;
  /** Starts a Gatekeeper process (src/main.ts unless `script` says otherwise) on `databaseUrl`. */
  startGatekeeper(name: string, databaseUrl: string, env?: Record<string, string>, script?: string): Promise<Service>;
  /** Starts any other process of the bench; it is stopped with the rest at the end. */
  start(options: Parameters<typeof startService>[0]): Promise<Service>;
  stopAll(): Promise<void>;
}

/** A fixed signing secret: every process of a scenario (and every worker) accepts the others' tokens. */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

export function createContext(base: Omit<BenchContext, 'startGatekeeper' | 'start' | 'stopAll'>): BenchContext {
  const running = new Set<Service>();
  const start = async (options: Parameters<typeof startService>[0]) => {
    const service = await startService(options);
    running.add(service);
    const stop = service.stop.bind(service);
    service.stop = async () => {
      running.delete(service);
      await stop();
    };
    return service;
  };
  return {
    ...base,
    start,
    startGatekeeper: (name, databaseUrl, env = {}, script = 'src/main.ts') =>
      start({
        name,
        script,
        logDir: base.logDir,
        ready: GATEKEEPER_READY,
        nodeArgs: GATEKEEPER_NODE_FLAGS,
        env: {
          HOST: '127.0.0.1',
          PORT: '0',
          DATABASE_URL: databaseUrl,
          GATEKEEPER_SECRET_KEY: BENCH_SECRET,
          GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
          ...env,
        },
      }),
    async stopAll() {
      await Promise.all([...running].map((s) => s.stop().catch(() => undefined)));
    },
  };
}
