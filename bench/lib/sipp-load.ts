/**
 * sipp as a load generator. Same inputs and result as runSipp in test/helpers/sipp.ts, plus
 * the arguments a load run needs that the test helper does not pass:
 *
 *   -buff_size   sipp sets SO_RCVBUF/SO_SNDBUF to 64 KiB by default (128 KiB after the
 *                kernel's doubling). At ~4000 registrations/s that buffer overflows whenever
 *                sipp's single thread falls a few milliseconds behind; the kernel drops the
 *                server's responses at sipp's socket (/proc/net/udp "drops" on sipp's port)
 *                and the bench measures sipp instead of the server. 4 MiB here.
 *   -p           a chosen local port instead of sipp's default 5060, which may be taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SippResult, SippRun } from '../../test/helpers/sipp.ts';
import { freeUdpPort, stopProcess } from './procs.ts';

const running = new Set<ChildProcess>();

/** Stops every sipp this module started that is still running (for an interrupted bench). */
export async function stopAllSipp(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p, { graceMs: 2000 })));
}

export interface LoadRun extends SippRun {
  /** Socket buffer size for sipp's SIP socket, in bytes (default 4 MiB). */
  bufferBytes?: number;
  /**
   * sipp's local port (default: a free one). The Contact carries it, so runs that should
   * refresh the same bindings must use the same port.
   */
  localPort?: number;
}

export async function runSippLoad(run: LoadRun): Promise<SippResult> {
  const inf = join(run.dir, `inject-${process.hrtime.bigint()}.csv`);
  writeFileSync(inf, `SEQUENTIAL\n${run.injection.join('\n')}\n`);
  const localIp = run.localIp ?? '127.0.0.1';
  const localPort = run.localPort ?? (await freeUdpPort(localIp));
  const args = [
    `${run.target.host}:${run.target.port}`,
    '-sf', run.scenario,
    '-inf', inf,
    '-t', run.transport,
    '-i', localIp,
    '-p', String(localPort),
    '-m', String(run.calls),
    '-r', String(run.rate),
    '-l', String(run.maxConcurrent ?? 100),
    '-timeout', `${run.timeoutS ?? 60}s`,
    '-timeout_error',
    '-nostdin',
    '-buff_size', String(run.bufferBytes ?? 4 * 1024 * 1024),
  ];
  return new Promise((resolve) => {
    const proc = spawn('sipp', args, { cwd: run.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', (err) => resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` }));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
