/**
 * sipp (Debian package sip-tester) for the benches and the integration tests: startSipp() runs it
 * with any arguments in its own working directory (it writes its -trace_* files there), bounded
 * by a deadline after which it is killed; runSipp() runs a scenario with an injection file to
 * completion; parseSippStats() reads the final screens. Every sipp still running can be stopped
 * with stopAllSipp() (an interrupted bench).
 *
 * Always passed:
 *   -nostdin
 *   -buff_size   sipp sets SO_RCVBUF/SO_SNDBUF to 64 KiB by default (128 KiB after the
 *                kernel's doubling). At ~4000 registrations/s (or a few hundred calls/s) that
 *                buffer overflows whenever sipp's single thread falls a few milliseconds behind;
 *                the kernel drops the server's responses at sipp's socket (/proc/net/udp "drops"
 *                on sipp's port) and a bench measures sipp instead of the server. 4 MiB here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort, processCpuSeconds, stopProcess } from './procs.ts';
import { HarnessError } from './harness-error.ts';

const BUFFER_BYTES = 4 * 1024 * 1024;
const running = new Set<ChildProcess>();

/** Stops every sipp this module started that is still running. */
export async function stopAllSipp(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p, { graceMs: 2000 })));
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SippExit extends SippResult {
  signal: NodeJS.Signals | null;
  killedAtDeadline: boolean;
}

export interface SippHandle {
  proc: ChildProcess;
  /** Resolves when sipp has exited (by itself, or killed at the deadline). */
  done: Promise<SippExit>;
  cpuSeconds(): number;
  /** Text of the first file in sipp's directory whose name ends with `suffix` (e.g. '_rtt.csv'). */
  file(suffix: string): string;
  /** SIGTERM, then SIGKILL after 2 s. */
  stop(): Promise<number | null>;
  /** SIGKILL at once. */
  kill(): void;
}

/** Starts sipp without waiting for it (a UAS must listen before the UAC dials). */
export function startSipp(o: { args: string[]; cwd: string; deadlineS?: number; prefix?: string[] }): SippHandle {
  const args = [...o.args, '-nostdin', '-buff_size', String(BUFFER_BYTES)];
  // `prefix` (e.g. `ip netns exec NS`) must exec sipp, so that the pid stays sipp's.
  const [cmd, ...argv] = [...(o.prefix ?? []), 'sipp', ...args];
  const proc = spawn(cmd!, argv, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const timer =
    o.deadlineS === undefined
      ? undefined
      : setTimeout(() => {
          killedAtDeadline = true;
          void stopProcess(proc, { graceMs: 2000 });
        }, o.deadlineS * 1000);
  const done = new Promise<SippExit>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      running.delete(proc);
      resolve({ code, signal, stdout, stderr, killedAtDeadline });
    };
    proc.once('error', (err) => {
      stderr += err.message;
      finish(-1, null);
    });
    proc.once('close', finish);
  });
  return {
    proc,
    done,
    cpuSeconds: () => (proc.pid ? processCpuSeconds(proc.pid) : 0),
    file(suffix: string) {
      const name = readdirSync(o.cwd).find((f) => f.endsWith(suffix));
      return name ? readFileSync(join(o.cwd, name), 'latin1') : '';
    },
    stop: () => stopProcess(proc, { graceMs: 2000 }),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

export interface SippRun {
  scenario: string;
  target: { host: string; port: number };
  transport: 'u1' | 'un' | 't1' | 'tn';
  calls: number;
  rate: number;
  /** CSV rows for -inf (written SEQUENTIAL). */
  injection: string[];
  dir: string;
  localIp?: string;
  /**
   * sipp's local port (UDP default: a free one). The Contact carries it, so runs that should
   * refresh the same bindings must use the same port.
   */
  localPort?: number;
  timeoutS?: number;
  maxConcurrent?: number;
}

/** Runs `run.scenario` to completion with a bounded call count and timeout. */
export async function runSipp(run: SippRun): Promise<SippResult> {
  const inf = join(run.dir, `inject-${process.hrtime.bigint()}.csv`);
  writeFileSync(inf, `SEQUENTIAL\n${run.injection.join('\n')}\n`);
  const localIp = run.localIp ?? '127.0.0.1';
  const localPort = run.localPort ?? (run.transport.startsWith('u') ? await freeUdpPort(localIp) : undefined);
  const args = [
    `${run.target.host}:${run.target.port}`,
    '-sf', run.scenario,
    '-inf', inf,
    '-t', run.transport,
    '-i', localIp,
    ...(localPort !== undefined ? ['-p', String(localPort)] : []),
    '-m', String(run.calls),
    '-r', String(run.rate),
    '-l', String(run.maxConcurrent ?? 100),
    '-timeout', `${run.timeoutS ?? 60}s`,
    '-timeout_error',
    '-max_socket', '1000',
  ];
  const { code, stdout, stderr } = await startSipp({ args, cwd: run.dir }).done;
  return { code, stdout, stderr };
}

/** sipp's version, as `sipp -v` prints it. */
export function sippVersion(): string {
  const res = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  return /SIPp v?(\S+)/.exec(`${res.stdout}${res.stderr}`)?.[1]?.replace(/[-.,]+$/, '') ?? 'unknown';
}

// ---- the final screens -------------------------------------------------------------------------


export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** Seconds between sipp's "Start Time" and "Current Time" at exit. */
  elapsedS: number;
  /** Highest number of registrations in flight at once. */
  peakConcurrent: number;
  /** Retransmissions sipp sent (all request rows of the scenario screen). */
  retransmissions: number;
  /** Messages sipp gave up on (Timeout column) and responses it did not expect. */
  timeouts: number;
  unexpected: number;
  /** UDP send/recv/congestion errors sipp counted. */
  udpErrors: number;
}

const epoch = (stdout: string, label: string): number => {
  const m = new RegExp(`${label}\\s*\\|[^\\n]*?\\s(\\d+\\.\\d+)\\s*\\n`).exec(stdout);
  return m ? Number(m[1]) : NaN;
};

const cumulative = (stdout: string, label: string): number => {
  const m = new RegExp(`${label}\\s*\\|[^|\\n]*\\|\\s*(\\d+)`).exec(stdout);
  return m ? Number(m[1]) : -1;
};

export function parseSippStats(stdout: string): SippStats {
  // sipp prints the screens more than once; the final ones are last.
  const at = stdout.lastIndexOf('Scenario Screen');
  const tail = at >= 0 ? stdout.slice(at) : stdout;

  let retransmissions = 0;
  let timeouts = 0;
  let unexpected = 0;
  for (const line of tail.split('\n')) {
    // Request rows: "    REGISTER ---------->   <msgs>   <retrans>   <timeout>"
    let m = /^\s*\S+ -+>\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      retransmissions += Number(m[2]);
      timeouts += Number(m[3]);
      continue;
    }
    // Response rows: "         401 <----------   <msgs>   <retrans>   <timeout>   <unexpected>"
    m = /^\s*\S+ <-+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) {
      timeouts += Number(m[3]);
      unexpected += Number(m[4]);
    }
  }
  const peak = /Peak was (\d+) calls/.exec(tail);
  const udp = /(\d+)\/(\d+)\/(\d+) UDP errors/.exec(tail);
  const start = epoch(tail, 'Start Time');
  const now = epoch(tail, 'Current Time');
  return {
    created: cumulative(tail, 'Total Calls created'),
    successful: cumulative(tail, 'Successful call'),
    failed: cumulative(tail, 'Failed call'),
    elapsedS: Number.isFinite(start) && Number.isFinite(now) ? now - start : -1,
    peakConcurrent: peak ? Number(peak[1]) : -1,
    retransmissions,
    timeouts,
    unexpected,
    udpErrors: udp ? Number(udp[1]) + Number(udp[2]) + Number(udp[3]) : -1,
  };
}

/** Successful and failed call counts from sipp's final statistics screen (-1 when missing). */
export function sippCounts(stdout: string): { successful: number; failed: number } {
  const { successful, failed } = parseSippStats(stdout);
  return { successful, failed };
}

/** A load step as sipp saw it: `attempts` started, and how many succeeded, failed or never completed. */
export interface SippOutcome {
  stats: SippStats;
  successful: number;
  failed: number;
  unanswered: number;
  /** (failed + unanswered) / attempts. */
  failRatio: number;
  /** sipp's own run time, or `wallS` when its screens lack it. */
  elapsedS: number;
}

/** The outcome of a sipp run of `attempts` calls; throws when its statistics cannot be read. */
export function sippOutcome(res: SippResult, attempts: number, wallS: number): SippOutcome {
  const stats = parseSippStats(res.stdout);
  if (stats.successful < 0) throw new HarnessError(`could not read sipp's statistics (exit ${res.code}):\n${res.stderr}\n${res.stdout.slice(-2000)}`);
  const failed = Math.max(0, stats.failed);
  const unanswered = Math.max(0, attempts - stats.successful - failed);
  return { stats, successful: stats.successful, failed, unanswered, failRatio: (failed + unanswered) / attempts, elapsedS: stats.elapsedS > 0 ? stats.elapsedS : wallS };
}

/** The fields a sipp-driven load step reports (bench/register.ts, the setup-rate part of calls.ts). */
export interface SippLoadStep {
  rate: number;
  attempts: number;
  successful: number;
  failed: number;
  unanswered: number;
  failRatio: number;
  /** Calls (registrations) per second sipp actually started. */
  offeredRate: number;
  /** Successful ones per second. */
  achievedRate: number;
  elapsedS: number;
  retransmissions: number;
  peakConcurrent: number;
  pass: boolean;
  /** Set when a first attempt at this rate failed while other processes used the cores. */
  repeatedAfterDisturbance?: boolean;
  sippExit: number | null;
}

/**
 * A load step's verdict: it fails when the system under test died (`died` names the reason),
 * when `maxFailRatio` or more of its calls failed or went unanswered, or when sipp offered less
 * than `minOfferedRate`.
 */
export function loadVerdict<D extends string>(o: { died: D | undefined; failRatio: number; maxFailRatio: number; offeredRate: number; minOfferedRate: number }): { pass: boolean; reason?: D | 'failures' | 'rate-not-offered' } {
  if (o.died) return { pass: false, reason: o.died };
  if (o.failRatio >= o.maxFailRatio) return { pass: false, reason: 'failures' };
  if (o.offeredRate < o.minOfferedRate) return { pass: false, reason: 'rate-not-offered' };
  return { pass: true };
}

/** The sipp scenario files shared by the integration tests and the benches. */
export const SIPP_SCENARIOS = join(import.meta.dirname, '../../test/integration/sipp');

export interface SippProcess {
  proc: ChildProcess;
  /** Resolves when sipp exits. */
  done: Promise<SippResult>;
  /** -message_file: every message sent and received (sipp -trace_msg). */
  messageFile: string;
  /** -error_file: unexpected messages and the reasons calls failed. */
  errorFile: string;
  messages(): string;
  errors(): string;
  kill(): void;
}

export interface SippSpawn {
  scenario: string;
  dir: string;
  /** A unique tag used in the names of the trace files. */
  name: string;
  /** SIP port sipp binds. */
  port: number;
  /** Media port (-mp); P..P+3 should be free. */
  mediaPort: number;
  /** UAC: where to send; a UAS leaves it out. */
  target?: { host: string; port: number };
  /** UAC: injection rows (-inf, SEQUENTIAL). */
  injection?: string[];
  calls: number;
  rate?: number;
  maxConcurrent?: number;
  rtpEcho?: boolean;
  /** Global bound: sipp stops (and fails) after this many seconds. */
  timeoutS: number;
  extra?: string[];
  /** The address sipp binds for SIP and media (default 127.0.0.1). */
  host?: string;
  /** A command prefix that execs sipp elsewhere, e.g. `ip netns exec NS` (bench/lib/netns.ts). */
  prefix?: string[];
}

/** Starts sipp without waiting for it (a UAS must listen before the UAC dials). */
export function spawnSipp(run: SippSpawn): SippProcess {
  const messageFile = join(run.dir, `${run.name}-messages.log`);
  const errorFile = join(run.dir, `${run.name}-errors.log`);
  const args: string[] = [];
  if (run.target) args.push(`${run.target.host}:${run.target.port}`);
  const host = run.host ?? '127.0.0.1';
  args.push('-sf', run.scenario, '-i', host, '-p', String(run.port), '-mi', host, '-mp', String(run.mediaPort));
  if (run.injection) {
    const inf = join(run.dir, `${run.name}-inject.csv`);
    writeFileSync(inf, `SEQUENTIAL\n${run.injection.join('\n')}\n`);
    args.push('-inf', inf);
  }
  args.push('-m', String(run.calls), '-l', String(run.maxConcurrent ?? 10));
  if (run.rate !== undefined) args.push('-r', String(run.rate));
  if (run.rtpEcho) args.push('-rtp_echo');
  args.push('-timeout', `${run.timeoutS}s`, '-timeout_error', '-trace_msg', '-message_file', messageFile, '-trace_err', '-error_file', errorFile, ...(run.extra ?? []));
  const sipp = startSipp({ args, cwd: run.dir, ...(run.prefix ? { prefix: run.prefix } : {}) });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'latin1') : '');
  return {
    proc: sipp.proc,
    done: sipp.done,
    messageFile,
    errorFile,
    messages: () => read(messageFile),
    errors: () => read(errorFile),
    kill: sipp.kill,
  };
}
