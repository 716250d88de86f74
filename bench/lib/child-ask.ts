/** One request/answer with a forked child over its IPC channel: the answer is the first message holding `key`. */
import type { ChildProcess } from 'node:child_process';
import { HarnessError } from './harness-error.ts';

export function askChild<T>(child: ChildProcess, msg: object, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new HarnessError(`client process ${child.pid}: no ${key} after ${timeoutMs} ms`)), timeoutMs);
    const onExit = () => reject(new HarnessError(`client process ${child.pid} exited`));
    child.once('exit', onExit);
    child.on('message', function onMsg(m: Record<string, unknown>) {
      if (!(key in m)) return;
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m[key] as T);
    });
    child.send(msg);
  });
}
