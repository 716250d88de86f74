/**
 * sipp as a caller or callee for bench/calls.ts: any arguments, its own working directory (sipp
 * writes its -trace_* files there), a hard deadline after which it is killed, and a registry of
 * the ones still running so that an interrupted bench can stop them all.
 *
 * Always passed: -buff_size 4 MiB (sipp's default 64 KiB socket buffers overflow at a few
 * hundred calls/s; see bench/lib/sipp-load.ts), -nostdin, -t u1, -i 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuSeconds, stopProcess } from './procs.ts';

const running = new Set<ChildProcess>();

export async function stopAllSippProcs(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p, { graceMs: 2000 })));
}

export interface SippProc {
  proc: ChildProcess;
  /** Resolves when sipp has exited (by itself, or killed at the deadline). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAtDeadline: boolean }>;
  cpuSeconds(): number;
  /** Text of the first file in sipp's directory whose name ends with `suffix` (e.g. '_rtt.csv'). */
  file(suffix: string): string;
  stop(): Promise<number | null>;
}

export function spawnSippProc(options: { args: string[]; cwd: string; deadlineS: number }): SippProc {
  const args = [...options.args, '-t', 'u1', '-i', '127.0.0.1', '-nostdin', '-buff_size', String(4 * 1024 * 1024)];
  const proc = spawn('sipp', args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    // sipp repaints its screens; only the last ones matter.
    if (stdout.length > 400_000) stdout = stdout.slice(-200_000);
  });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let killedAtDeadline = false;
  const timer = setTimeout(() => {
    killedAtDeadline = true;
    void stopProcess(proc, { graceMs: 2000 });
  }, options.deadlineS * 1000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; killedAtDeadline: boolean }>((resolve) => {
    proc.once('error', (err) => {
      stderr += err.message;
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(proc);
      resolve({ code, signal, stdout, stderr, killedAtDeadline });
    });
  });
  return {
    proc,
    done,
    cpuSeconds: () => (proc.pid ? processCpuSeconds(proc.pid) : 0),
    file(suffix: string) {
      const name = readdirSync(options.cwd).find((f) => f.endsWith(suffix));
      return name ? readFileSync(join(options.cwd, name), 'utf8') : '';
    },
    stop: () => stopProcess(proc, { graceMs: 2000 }),
  };
}
