/**
 * Starting and stopping the processes under test (Gatekeeper, the bare Fastify baseline,
 * the Better Auth peer), each a separate `node --import tsx …` process whose output goes
 * to a log file (so a chatty logger costs the service a write, not the orchestrator CPU),
 * and reading their memory from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT } from './rpc.js';

export interface Service {
  name: string;
  pid: number;
  port: number;
  baseUrl: string;
  logFile: string;
  /** The last `bytes` of the log. */
  tail(bytes?: number): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Script path relative to the repository root, run with `node --import tsx`. */
  script: string;
  env: Record<string, string>;
  logDir: string;
  /** Matches the start line; group 1 is the port. */
  ready: RegExp;
  timeoutMs?: number;
  /** Extra node flags, e.g. ['--cpu-prof'] when looking for where the time goes. */
  nodeArgs?: string[];
}

/** The node flags `npm start` runs Gatekeeper with (package.json "start"; test/ops/docker.test.ts keeps them equal). */
export const GATEKEEPER_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=30'];

/** Gatekeeper's start line (src/main.ts), also printed by the bench's own launchers. */
export const GATEKEEPER_READY = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

let counter = 0;

export async function startService(opts: StartOptions): Promise<Service> {
  counter += 1;
  const logFile = path.join(opts.logDir, `${String(counter).padStart(2, '0')}-${opts.name}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...opts.env },
    stdio: ['ignore', fd, fd],
    detached: false,
  });
  closeSync(fd);
  let exitCode: number | string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal ?? 'unknown';
      resolve();
    }),
  );
  const tail = (bytes = 4000) => {
    const text = readFileSync(logFile, 'utf8');
    return text.slice(-bytes);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let port = 0;
  while (port === 0) {
    const match = opts.ready.exec(readFileSync(logFile, 'utf8'));
    if (match) port = Number(match[1]);
    else if (exitCode !== null) throw new Error(`${opts.name} exited (${exitCode}) before listening:\n${tail()}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} did not start in time:\n${tail()}`);
    } else await delay(100);
  }
  return {
    name: opts.name,
    pid: child.pid ?? 0,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    logFile,
    tail,
    alive: () => exitCode === null,
    async stop() {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Memory {
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** Peak resident set size of the process so far (VmHWM), MiB. */
  hwmMiB: number;
}

/** VmRSS and VmHWM of one process, or null once it is gone. */
export function readMemory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Direct child processes of `pid` (Linux), e.g. the workers of a node:cluster primary. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Samples a process's memory every `everyMs` until stopped; returns the peak seen. */
export function sampleMemory(
  pid: number,
  everyMs = 50,
): { stop(): { peakRssMiB: number; hwmMiB: number; samples: number } } {
  let peak = 0;
  let hwm = 0;
  let samples = 0;
  const timer = setInterval(() => {
    const m = readMemory(pid);
    if (!m) return;
    samples += 1;
    peak = Math.max(peak, m.rssMiB);
    hwm = Math.max(hwm, m.hwmMiB);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const m = readMemory(pid);
      if (m) hwm = Math.max(hwm, m.hwmMiB);
      return { peakRssMiB: peak, hwmMiB: hwm, samples };
    },
  };
}
