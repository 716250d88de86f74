/**
 * A relay under test in a child process, spoken to over IPC one request at a time: the child
 * sends `{ type: 'ready' }` once, then one reply per request (`{ type: 'error', message }` for a
 * failure). Used by bench/lib/relays.ts (pass-through) and bench/lib/transcode-relays.ts; the
 * children's side of it is bench/lib/relay-child-main.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds, processRssMb, stopProcess } from './procs.ts';
import { HarnessError } from './harness-error.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RelayChild {
  proc: ChildProcess;
  /** The next message from the child, or a rejection on its error, its exit or the timeout. */
  next(timeoutMs: number, what: string): Promise<Record<string, unknown>>;
  /** Why the child is gone, once it is. */
  exitInfo(): string | undefined;
  stop(): Promise<number | null>;
}

/** Forks `script` with tsx and waits for its 'ready' message (stops it and throws otherwise). */
export async function forkRelayChild(script: string, args: string[], options: { preload?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<RelayChild> {
  const proc: ChildProcess = fork(script, args, {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.preload ?? []).flatMap((p) => ['--import', p])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: options.env ?? process.env,
  });
  let exitInfo: string | undefined;
  let waiting: { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  proc.on('message', (m: unknown) => {
    const w = waiting;
    waiting = undefined;
    const msg = m as Record<string, unknown>;
    if (!w) return;
    if (msg['type'] === 'error') w.reject(new HarnessError(`outpost relay: ${String(msg['message'])}`));
    else w.resolve(msg);
  });
  proc.once('exit', (code, signal) => {
    exitInfo = `outpost relay exited (code ${code}, signal ${signal})`;
    waiting?.reject(new HarnessError(exitInfo));
    waiting = undefined;
  });
  const next = (timeoutMs: number, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      if (exitInfo) return reject(new HarnessError(exitInfo));
      const timer = setTimeout(() => {
        waiting = undefined;
        reject(new HarnessError(`outpost relay: no reply to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  const stop = () => stopProcess(proc, { graceMs: 5000 });
  try {
    const ready = await next(20_000, 'start');
    if (ready['type'] !== 'ready') throw new HarnessError(`outpost relay: unexpected first message ${String(ready['type'])}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, next, exitInfo: () => exitInfo, stop };
}

/** What both relay benches report of Outpost's relay child as the relay under test. */
export function outpostUnderTest(child: RelayChild) {
  const pid = child.proc.pid!;
  return { name: 'outpost' as const, pid, cpuSeconds: () => processCpuSeconds(pid), rssMb: () => processRssMb(pid), dead: child.exitInfo };
}
