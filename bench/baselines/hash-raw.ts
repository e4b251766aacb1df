/**
 * Raw password-hash throughput in a plain Node process (no HTTP, no database): the
 * physical limit the service's login and register are compared with. Driven over IPC by
 * the orchestrator (lib/hash-baseline.ts), one bounded run per command.
 *
 * Bindings: `@node-rs/argon2` (what Gatekeeper uses), `argon2` (node-argon2), and
 * node:crypto scrypt at Better Auth's parameters (@better-auth/utils/password.node:
 * N=16384, r=16, p=1, 64-byte key, NFKC-normalised password, hex salt of 16 random bytes).
 * `argon2` is imported only when a command asks for it, and only after the orchestrator has
 * probed that it loads (bench/lib/bindings.ts): its prebuild segfaults on import on some CPUs.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as nodeRs from '@node-rs/argon2';
import { serveRpc } from '../lib/rpc.js';
import { latencySummary } from '../lib/stats.js';
import type { RunResult } from '../lib/types.js';

export type HashBinding = 'node-rs' | 'argon2' | 'scrypt';

export interface HashCommand {
  binding: HashBinding;
  op: 'hash' | 'verify';
  /** Argon2id parameters (memoryCost in KiB); ignored for scrypt. */
  params: { memoryCost: number; timeCost: number; parallelism: number };
  concurrency: number;
  durationSec: number;
  leadInSec: number;
}

const PASSWORD = 'Bench-pass-1!';
const SCRYPT = { N: 16384, r: 16, p: 1, dkLen: 64 };

function scryptKey(password: string, salt: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFKC'),
      salt,
      SCRYPT.dkLen,
      { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

async function scryptHash(password: string): Promise<string> {
  const salt = randomBytes(16).toString('hex');
  return `${salt}:${(await scryptKey(password, salt)).toString('hex')}`;
}

async function scryptVerify(stored: string, password: string): Promise<boolean> {
  const [salt = '', key = ''] = stored.split(':');
  const derived = await scryptKey(password, salt);
  return timingSafeEqual(derived, Buffer.from(key, 'hex'));
}

type Argon2Module = typeof import('argon2');
let argon2Module: Promise<Argon2Module> | undefined;
const loadArgon2 = () => (argon2Module ??= import('argon2').then((m) => m.default));

async function operations(
  command: HashCommand,
): Promise<{ hash: () => Promise<string>; verify: (h: string) => Promise<boolean> }> {
  const p = command.params;
  if (command.binding === 'node-rs') {
    const options = { memoryCost: p.memoryCost, timeCost: p.timeCost, parallelism: p.parallelism, algorithm: 2 };
    return { hash: () => nodeRs.hash(PASSWORD, options), verify: (h) => nodeRs.verify(h, PASSWORD) };
  }
  if (command.binding === 'argon2') {
    const argon2 = await loadArgon2();
    const options: import('argon2').HashOptions = {
      type: argon2.argon2id,
      memoryCost: p.memoryCost,
      timeCost: p.timeCost,
      parallelism: p.parallelism,
    };
    return { hash: () => argon2.hash(PASSWORD, options), verify: (h) => argon2.verify(h, PASSWORD) };
  }
  return { hash: () => scryptHash(PASSWORD), verify: (h) => scryptVerify(h, PASSWORD) };
}

const stored = new Map<string, string>();

async function run(command: HashCommand): Promise<RunResult> {
  const ops = await operations(command);
  const key = `${command.binding}:${JSON.stringify(command.params)}`;
  if (!stored.has(key)) stored.set(key, await ops.hash());
  const hash = stored.get(key)!;
  const op = command.op === 'hash' ? () => ops.hash() : () => ops.verify(hash);

  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const from = start + command.leadInSec * 1000;
  const to = start + command.durationSec * 1000;
  const loop = async () => {
    while (performance.now() < to) {
      const t0 = performance.now();
      const ok = await op().then(
        (r) => r !== false,
        () => false,
      );
      const t1 = performance.now();
      if (t1 < from || t1 > to) continue;
      if (ok) latencies.push(t1 - t0);
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, loop));
  const windowSec = (to - from) / 1000;
  return {
    ok: latencies.length,
    rate: latencies.length / windowSec,
    ...latencySummary(latencies),
    failed,
    statusCodes: {},
    windowSec,
  };
}

serveRpc(async (command) => run(command as unknown as HashCommand));
