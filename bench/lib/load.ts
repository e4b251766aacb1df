/** The orchestrator's handles on its helper processes: the load generator and the raw-hash baseline. */
import type { HashCommand } from '../baselines/hash-raw.js';
import type { Cell } from './measure.js';
import { startRpcChild, type RpcChild } from './rpc.js';
import type { LoadCommand, RunResult, RunTiming, Workload } from './types.js';

export type Helper = RpcChild;

export function startLoadGenerator(): Promise<Helper> {
  return startRpcChild('bench/lib/load-worker.ts');
}

export function startHashBaseline(): Promise<Helper> {
  return startRpcChild('bench/baselines/hash-raw.ts');
}

/** A cell that loads `url` from the load-generator process. */
export function httpCell(
  load: Helper,
  spec: {
    key: string;
    label: string;
    url: string;
    connections: number;
    workload: Workload;
    settleMs?: number;
    timeoutSec?: number;
  },
): Cell {
  return {
    key: spec.key,
    label: spec.label,
    concurrency: spec.connections,
    unit: 'req/s',
    ...(spec.settleMs ? { settleMs: spec.settleMs } : {}),
    run: (timing) =>
      load.call<RunResult>({
        url: spec.url,
        connections: spec.connections,
        workload: spec.workload,
        ...(spec.timeoutSec ? { timeoutSec: spec.timeoutSec } : {}),
        ...timing,
      } satisfies LoadCommand),
  };
}

/**
 * A cell run by a helper process that measures in-process work (raw hashes, token verifications):
 * `command` goes to the helper with each run's timing added.
 */
export function helperCell<C extends RunTiming & { concurrency: number }>(
  helper: Helper,
  spec: { key: string; label: string } & Omit<C, keyof RunTiming>,
): Cell {
  const { key, label, ...command } = spec;
  return {
    key,
    label,
    concurrency: command.concurrency,
    unit: 'ops/s',
    run: (timing) => helper.call<RunResult>({ ...command, ...timing }),
  };
}

/** A cell that runs raw hashes in the baseline process. */
export function hashCell(
  raw: Helper,
  spec: { key: string; label: string } & Omit<HashCommand, 'durationSec' | 'leadInSec'>,
): Cell {
  return helperCell<HashCommand>(raw, spec);
}
