/**
 * Request/response over Node's IPC channel, for the bench's helper processes (the load
 * generator and the raw-hash baseline): the orchestrator sends a command and awaits the
 * answer, while the work itself runs in a process of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface RpcChild {
  pid: number;
  call<T>(command: object): Promise<T>;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script>` with an IPC channel and waits for its `ready` message. */
export async function startRpcChild(script: string, env: Record<string, string> = {}): Promise<RpcChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${script} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { ready?: boolean }).ready) {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    void exit.then(() => reject(new Error(`${script} exited before it was ready`)));
  });
  child.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error ?? 'failed'));
  });
  return {
    pid: child.pid ?? 0,
    call<T>(command: object): Promise<T> {
      if (exited) return Promise.reject(new Error(`${script} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, command });
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The child side: answers each command with `handler`'s result (or its error message). */
export function serveRpc(handler: (command: Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (m: { id: number; command: Record<string, unknown> }) => {
    handler(m.command).then(
      (result) => process.send?.({ id: m.id, ok: true, result } satisfies Reply),
      (err: unknown) =>
        process.send?.({
          id: m.id,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
        } satisfies Reply),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}
