/** Command-line flags of `npm run bench -- …`. */
import type { Timing } from './measure.js';

export const SCENARIOS = ['hashing', 'me', 'better-auth', 'workers', 'flood', 'scale', 'library', 'recovery'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  quick: boolean;
  /** Every scenario for about a second each: proves the bench runs (CI), measures nothing worth keeping. */
  smoke: boolean;
  timing: Timing;
  scenarios: ScenarioName[];
  /** Largest user count of the scale scenario. */
  maxUsers: number;
  /** Write docs/benchmarks.svg (default: on full runs of every scenario). */
  chart: boolean;
  /** Keep the temporary directory (database, service logs) for inspection. */
  keep: boolean;
  /** Measure nothing: re-render table, chart and docs from bench/results/latest.json. */
  reportOnly: boolean;
  /** Only some scenarios, or changed timing: results go to a .tmp.json file, not latest.json. */
  partial: boolean;
}

export const USAGE = `npm run bench -- [options]
  --quick               shorter runs and 100 thousand users at most (a check in under 10 minutes)
  --smoke               every scenario for about a second each, 2 thousand users at most: a check that the
                        bench runs (CI); exits non-zero when a scenario fails; results in partial.tmp.json
  --only=a,b            run only these scenarios (${SCENARIOS.join(', ')})
  --skip=a,b            run all but these
  --runs=N --duration=S --warmup=S --lead-in=S   override the timing of every measurement
  --max-users=N         largest table of the scale scenario (default 1000000, quick 100000)
  --chart               update docs/benchmarks.svg and the table in docs/BENCHMARKS.md even for a quick or partial run
  --report-only         measure nothing: print the table of bench/results/latest.json and update docs from it
  --keep                keep the temporary directory (PostgreSQL data, service logs)`;

export function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const known = [
    'quick',
    'smoke',
    'only',
    'skip',
    'runs',
    'duration',
    'warmup',
    'lead-in',
    'max-users',
    'chart',
    'keep',
    'report-only',
    'help',
  ];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  if (flags.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke = flags.has('smoke');
  const quick = smoke || flags.has('quick');
  const list = (name: string): ScenarioName[] | null => {
    const value = flags.get(name);
    if (value === undefined) return null;
    const names = value.split(',').filter(Boolean);
    for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`unknown scenario ${n}`);
    return names as ScenarioName[];
  };
  const only = list('only');
  const skip = list('skip') ?? [];
  const scenarios = (only ?? [...SCENARIOS]).filter((s) => !skip.includes(s));
  const num = (name: string, fallback: number) => {
    const value = flags.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
    return n;
  };
  const base: Timing = smoke
    ? { warmupSec: 0, runs: 1, durationSec: 1, leadInSec: 0.2 }
    : quick
      ? { warmupSec: 1, runs: 3, durationSec: 2, leadInSec: 0.5 }
      : { warmupSec: 3, runs: 5, durationSec: 6, leadInSec: 1 };
  const timing: Timing = {
    warmupSec: num('warmup', base.warmupSec),
    runs: Math.max(1, Math.round(num('runs', base.runs))),
    durationSec: num('duration', base.durationSec),
    leadInSec: num('lead-in', base.leadInSec),
  };
  if (timing.leadInSec >= timing.durationSec) throw new Error('--lead-in must be shorter than --duration');
  const changedTiming = ['runs', 'duration', 'warmup', 'lead-in', 'max-users'].some((n) => flags.has(n));
  const partial = smoke || scenarios.length !== SCENARIOS.length || changedTiming;
  return {
    quick,
    smoke,
    timing,
    scenarios,
    maxUsers: Math.round(num('max-users', smoke ? 2_000 : quick ? 100_000 : 1_000_000)),
    chart: flags.has('chart') || (!quick && !partial),
    keep: flags.has('keep'),
    reportOnly: flags.has('report-only'),
    partial,
  };
}
