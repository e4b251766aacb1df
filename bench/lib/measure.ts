/**
 * Bounded, interleaved measurement: every cell of a group gets a warm-up run, then the
 * groups' cells take turns run after run (A B C, A B C, …), so that a neighbour's load on
 * the shared machine hits a figure and its baseline alike. Medians and min/max over runs.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { spread, type Spread } from './stats.js';
import type { RunResult, RunTiming } from './types.js';

export interface Timing {
  warmupSec: number;
  runs: number;
  durationSec: number;
  leadInSec: number;
}

export interface Cell {
  key: string;
  label: string;
  /** Connections (HTTP) or operations in flight (raw hashing). */
  concurrency: number;
  unit: 'req/s' | 'ops/s';
  run(timing: RunTiming): Promise<RunResult>;
  /** Pause after each run, e.g. for hashes still running in the service after the client stopped. */
  settleMs?: number;
}

export interface CellResult {
  key: string;
  label: string;
  unit: string;
  concurrency: number;
  rate: Spread;
  p50: Spread;
  p99: Spread;
  /** Failures summed over the measured runs (see RunResult.failed). */
  failed: number;
  statusCodes: Record<string, number>;
  runs: RunResult[];
}

export async function measure(
  cells: Cell[],
  timing: Timing,
  log: (line: string) => void,
  overrides: Partial<Timing> = {},
): Promise<Record<string, CellResult>> {
  const t = { ...timing, ...overrides };
  const runs = new Map<string, RunResult[]>(cells.map((c) => [c.key, []]));
  if (t.warmupSec > 0) {
    for (const cell of cells) {
      const r = await cell.run({ durationSec: t.warmupSec, leadInSec: 0 });
      log(`  ${cell.label.padEnd(44)} warm-up   ${describe(r, cell.unit)}`);
      if (cell.settleMs) await delay(cell.settleMs);
    }
  }
  for (let i = 1; i <= t.runs; i += 1) {
    for (const cell of cells) {
      const r = await cell.run({ durationSec: t.durationSec, leadInSec: t.leadInSec });
      runs.get(cell.key)!.push(r);
      log(`  ${cell.label.padEnd(44)} run ${i}/${t.runs}   ${describe(r, cell.unit)}`);
      if (cell.settleMs) await delay(cell.settleMs);
    }
  }
  const out: Record<string, CellResult> = {};
  for (const cell of cells) {
    const rs = runs.get(cell.key)!;
    const statusCodes: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
    out[cell.key] = {
      key: cell.key,
      label: cell.label,
      unit: cell.unit,
      concurrency: cell.concurrency,
      rate: spread(rs.map((r) => r.rate)),
      p50: spread(rs.map((r) => r.p50)),
      p99: spread(rs.map((r) => r.p99)),
      failed: rs.reduce((n, r) => n + r.failed, 0),
      statusCodes,
      runs: rs,
    };
  }
  return out;
}

function describe(r: RunResult, unit: string): string {
  const fmt = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toPrecision(3)) : '-');
  const failed = r.failed ? `  failed ${r.failed} ${JSON.stringify(r.statusCodes)}` : '';
  return `${fmt(r.rate).padStart(7)} ${unit}  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms${failed}`;
}
