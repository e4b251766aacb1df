/**
 * `npm run bench` (issue 6): starts the database, the helper processes and, scenario by
 * scenario, the processes under test; prints one table of figures and ratios measured in
 * this run and writes bench/results/latest.json (and docs/benchmarks.svg on full runs).
 * Never part of `npm test`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ScenarioName } from './lib/args.js';
import { createContext, type BenchContext, type Results } from './lib/context.js';
import { openDatabase } from './lib/database.js';
import { writeDocs } from './lib/docs.js';
import { startHashBaseline, startLoadGenerator, type Helper } from './lib/load.js';
import { machineInfo } from './lib/machine.js';
import { buildReport, printReport, type Report } from './lib/report.js';
import { ROOT } from './lib/rpc.js';
import { betterAuthScenario } from './scenarios/better-auth.js';
import { floodScenario } from './scenarios/flood.js';
import { hashingScenario } from './scenarios/hashing.js';
import { libraryScenario } from './scenarios/library.js';
import { meScenario } from './scenarios/me.js';
import { recoveryScenario } from './scenarios/recovery.js';
import { scaleScenario } from './scenarios/scale.js';
import { workersScenario } from './scenarios/workers.js';

const SCENARIO_FUNCTIONS: Record<ScenarioName, (ctx: BenchContext) => Promise<void>> = {
  hashing: hashingScenario,
  me: meScenario,
  'better-auth': betterAuthScenario,
  workers: workersScenario,
  flood: floodScenario,
  scale: scaleScenario,
  library: libraryScenario,
  recovery: recoveryScenario,
};

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.reportOnly) {
    // Re-render the table, the chart and the docs from the last results, measuring nothing.
    const report = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as Report;
    process.stdout.write(printReport(report));
    for (const file of writeDocs(report)) process.stderr.write(`wrote ${path.relative(ROOT, file)}\n`);
    return;
  }
  const started = new Date();
  const log = (line: string) => process.stderr.write(`[bench ${elapsed(started)}] ${line}\n`);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'gatekeeper-bench-'));
  const logDir = path.join(tmpDir, 'logs');
  mkdirSync(logDir);
  log(
    `${options.smoke ? 'smoke' : options.quick ? 'quick' : 'full'} run of ${options.scenarios.join(', ')}; logs in ${logDir}`,
  );
  const machineBefore = machineInfo();

  const results: Results = { cells: {}, extra: {}, notes: [], errors: [] };
  const helpers: Helper[] = [];
  let ctx: BenchContext | undefined;
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  const cleanup = async () => {
    await ctx?.stopAll();
    await Promise.all(helpers.map((h) => h.stop().catch(() => undefined)));
    await db?.close().catch((err: unknown) => log(`could not stop PostgreSQL: ${String(err)}`));
    if (!options.keep) rmSync(tmpDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping every process');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    db = await openDatabase(tmpDir, log);
    const [load, raw] = await Promise.all([startLoadGenerator(), startHashBaseline()]);
    helpers.push(load, raw);
    ctx = createContext({
      quick: options.quick,
      smoke: options.smoke,
      timing: options.timing,
      tmpDir,
      logDir,
      nonce: randomBytes(3).toString('hex'),
      db,
      load,
      raw,
      results,
      log,
    });
    results.extra.run = { max_users: options.maxUsers };
    for (const name of options.scenarios) {
      log(`— scenario ${name}`);
      try {
        await SCENARIO_FUNCTIONS[name](ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        results.errors.push({ scenario: name, message });
        log(`scenario ${name} failed: ${message}`);
      } finally {
        await ctx.stopAll();
      }
    }
  } finally {
    const report = buildReport({
      options,
      started,
      finished: new Date(),
      machine: { ...machineBefore, loadavg_after: os.loadavg().map((n) => Number(n.toFixed(2))) },
      postgres: db ? { version: db.version, source: db.source } : null,
      results,
    });
    await cleanup();
    process.stdout.write(printReport(report));
    const resultsDir = path.join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, options.partial ? 'partial.tmp.json' : 'latest.json');
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${path.relative(ROOT, file)}`);
    if (options.chart) for (const written of writeDocs(report)) log(`wrote ${path.relative(ROOT, written)}`);
  }
  // A smoke run exists to catch a bench that no longer runs: a failed scenario fails it.
  if (options.smoke && results.errors.length > 0) {
    log(`${results.errors.length} scenario(s) failed: ${results.errors.map((e) => e.scenario).join(', ')}`);
    process.exitCode = 1;
  }
}

function elapsed(since: Date): string {
  const s = Math.round((Date.now() - since.getTime()) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
