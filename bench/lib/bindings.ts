/**
 * Comparison-only hash bindings are probed in a child process before the bench uses them:
 * a native prebuild that crashes on this CPU (the `argon2` 0.45.1 binding segfaults on import
 * on some machines) must cost its own rows, not the whole run (issue 18 point 18).
 */
import { spawnSync } from 'node:child_process';
import { ROOT } from './rpc.js';

export interface BindingProbe {
  available: boolean;
  /** Why not, in one line (exit code or signal, first line of stderr). */
  reason?: string;
}

/** Loads `moduleName` in a fresh Node process (20 s at most) and reports whether it loaded. */
export function probeModule(moduleName: string): BindingProbe {
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(moduleName)}); process.stdout.write('loaded');`],
    { cwd: ROOT, encoding: 'utf8', timeout: 20_000 },
  );
  if (result.stdout === 'loaded' && result.status === 0) return { available: true };
  const how = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal}`
      : `exit code ${String(result.status)}`;
  const stderr = (result.stderr ?? '').trim().split('\n')[0]?.slice(0, 200);
  return { available: false, reason: `importing ${moduleName} failed (${how})${stderr ? `: ${stderr}` : ''}` };
}
