/**
 * Process helpers for the benchmarks and tests: a free loopback UDP or TCP port, CPU time of a process (or of a
 * whole process group) from /proc, and a stop that escalates from SIGTERM to SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { HarnessError } from './harness-error.ts';

function bindUdp(port: number, host: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, host, () => resolve(s));
  });
}

/**
 * An even UDP port P such that P .. P+count-1 are all free on `host` right now (the OS picks P
 * from its ephemeral range; the sockets are closed before returning). sipp's media needs
 * P (RTP), P+1 (RTCP), P+2 (video RTP, which -rtp_echo binds too).
 */
export async function freeUdpPorts(count = 1, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = await bindUdp(0, host);
    if (!first) continue;
    const base = first.address().port;
    const held: Socket[] = [first];
    let ok = base % 2 === 0 && base + count - 1 <= 65535;
    for (let p = base + 1; ok && p < base + count; p++) {
      const s = await bindUdp(p, host);
      if (s) held.push(s);
      else ok = false;
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new HarnessError(`no ${count} consecutive free UDP ports found`);
}

/** Binds a UDP socket to 127.0.0.1:0, reads the port the OS chose, and closes it. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, host, () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

/** Binds a TCP listener to 127.0.0.1:0, reads the port the OS chose, and closes it. */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  pgrp: number;
  /** utime + stime, in seconds. */
  cpu: number;
  /** cutime + cstime (reaped children), in seconds. */
  childCpu: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const num = (field: number) => Number(rest[field - 3]);
  return {
    pid: pid === 'self' ? process.pid : pid,
    pgrp: num(5),
    cpu: (num(14) + num(15)) / CLOCK_TICKS,
    childCpu: (num(16) + num(17)) / CLOCK_TICKS,
  };
}

/** CPU seconds (user + system, all threads) used so far by one process; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  return readStat(pid)?.cpu ?? 0;
}

/** CPU seconds used so far by the live members of process group `pgid`. */
export function groupCpuSeconds(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && st.pgrp === pgid) total += st.cpu;
  }
  return total;
}

/** CPU seconds of this process's children that have exited and been reaped (e.g. sipp runs). */
export function reapedChildrenCpuSeconds(): number {
  return readStat('self')?.childCpu ?? 0;
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`. With `group`, the signals go to the
 * child's process group (the child must have been spawned with `detached: true`), so forked
 * workers are stopped too. Resolves with the exit code (null when killed by a signal).
 */
export async function stopProcess(proc: ChildProcess, options: { graceMs?: number; group?: boolean } = {}): Promise<number | null> {
  const graceMs = options.graceMs ?? 5000;
  const pid = proc.pid;
  if (pid === undefined) return null;
  const exited =
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve(proc.exitCode)
      : new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (options.group) process.kill(-pid, sig);
      else proc.kill(sig);
    } catch {
      // already gone
    }
  };
  if (proc.exitCode === null && proc.signalCode === null) signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') {
    signal('SIGKILL');
    return exited;
  }
  // The leader is gone; make sure no member of its group outlived it.
  if (options.group) {
    try {
      process.kill(-pid, 0);
      process.kill(-pid, 'SIGKILL');
    } catch {
      // group empty
    }
  }
  return first;
}

/**
 * True when some socket is bound to UDP `port` (read from /proc/net/udp, without touching it);
 * with `pid`, in that process's network namespace (/proc/PID/net/udp).
 */
export function udpPortBound(port: number, pid?: number): boolean {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync(pid === undefined ? '/proc/net/udp' : `/proc/${pid}/net/udp`, 'latin1').split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(suffix) === true);
}

/**
 * The kernel's UDP counters (/proc/net/snmp, whole network namespace): a rising RcvbufErrors
 * means datagrams were dropped because a socket's receive buffer was full, i.e. its reader
 * fell behind.
 */
export function udpCounters(): { inDatagrams: number; rcvbufErrors: number; inErrors: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1).map(Number) ?? [];
  const get = (n: string) => values[names.indexOf(n)] ?? -1;
  return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), inErrors: get('InErrors') };
}

/** CPU seconds spent busy (not idle or iowait) by all cores since boot, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return (total - idle) / CLOCK_TICKS;
}

/** Resident set size of one process in MB (0 once it is gone). */
export function processRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Appends a child's stdout and stderr to `logFile` and keeps the last ~100-200 kB of it in
 * memory; returns a reader of that tail.
 */
export function captureOutput(proc: ChildProcess, logFile: string): () => string {
  let output = '';
  const log = createWriteStream(logFile);
  proc.once('exit', () => log.end());
  const keep = (c: Buffer) => {
    log.write(c);
    output += c.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return () => output;
}
