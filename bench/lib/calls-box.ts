/**
 * The system under test of bench/calls.ts: one `outpost node` with callers 100000+i and callees
 * 200000+i stored (every callee's binding points at the one sipp callee), sipp as caller and
 * callee, and what the steps read back (the node's warnings and GC pauses, sipp's setup times
 * and relay ports, the CDRs' relay counters).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import { diagnostics, startNode, writeNodeConfig, type NodeProcess } from './node-process.ts';
import { freeUdpPort, processCpuSeconds, processRssMb, udpPortBound } from './procs.ts';
import { startSipp, type SippHandle } from './sipp.ts';
import { HarnessError } from './harness-error.ts';

const UAC_SCENARIO = join(import.meta.dirname, 'sipp/call-uac-bench.xml');
const UAS_SCENARIO = join(import.meta.dirname, 'sipp/call-uas-bench.xml');
/** Every sipp here: UDP, one socket, on 127.0.0.1. */
const SIPP_LOCAL = ['-t', 'u1', '-i', '127.0.0.1'];

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const callerExt = (i: number) => String(100000 + i);
const calleeExt = (i: number) => String(200000 + i);
const password = (ext: string) => `pw-${ext}-bench`;

export interface BoxOptions {
  dir: string;
  domain: string;
  /** Callers (and callees) stored. */
  users: number;
  rtpRange: [number, number];
  cpuProfDir?: string | undefined;
  traceGc: boolean;
  log: (msg: string) => void;
}

export type GcPauses = Record<string, { count: number; totalMs: number; maxMs: number }>;
export type CdrSummary = { count: number; answered: number; packetsRelayed: number; lost: number; unexpectedSource: number; unroutable: number };

export class CallsBox {
  /** Warnings and errors (level >= 40) the node logged, counted by message. */
  private readonly problems: Record<string, number> = {};
  private exitInfo: string | undefined;
  private stepNo = 0;

  private constructor(
    readonly node: NodeProcess,
    readonly uasPort: number,
    private readonly o: BoxOptions,
  ) {
    node.proc.once('exit', (code, signal) => (this.exitInfo = `outpost node exited (code ${code}, signal ${signal})`));
    // The helper keeps every log line of the node: count the warnings and errors, then drop old lines.
    const trim = setInterval(() => {
      if (node.logs.length > 5000) this.countProblems(node.logs.splice(0, node.logs.length - 1000));
    }, 1000);
    node.proc.once('exit', () => clearInterval(trim));
  }

  static async start(o: BoxOptions): Promise<CallsBox> {
    // The node's defaults except: MD5 only (sipp), no flood throttling of the one sipp source,
    // call limits above anything the bench offers, and a media timeout longer than a step's
    // silent set-up and tear-down phases (the RTP runs only in the measurement window).
    const config = writeNodeConfig(
      o.dir,
      `  auth: { algorithms: [MD5] }
  flood:
    rateLimit: { perSecond: 1000000, burst: 1000000 }
rtp: { portRange: [${o.rtpRange[0]}, ${o.rtpRange[1]}], timeout: 300 }
calls: { maxPerUser: 100, maxTotal: 20000 }
`,
      o.domain,
    );
    const uasPort = await freeUdpPort();
    const t0 = performance.now();
    const store = Store.open({ dataDir: join(o.dir, 'data') });
    try {
      const now = Date.now();
      for (let i = 0; i < o.users; i++) {
        for (const ext of [callerExt(i), calleeExt(i)]) {
          const pw = password(ext);
          store.users.upsert({ ext, displayName: `Bench ${ext}`, realm: o.domain, site: 'branch-a', ha1Md5: computeHa1(ext, o.domain, pw, 'MD5'), ha1Sha256: computeHa1(ext, o.domain, pw, 'SHA-256') }, now);
        }
        const aor = calleeExt(i);
        store.registrations.upsert({
          aor, contact: `sip:${aor}@127.0.0.1:${uasPort}`, nodeId: 'a1', expiresAt: now + 24 * 3_600_000, q: null, callId: `bench-${aor}`, cseq: 1,
          path: '', userAgent: 'sipp callee (bench)', received: `udp:127.0.0.1:${uasPort}`, instanceId: '', regId: 0, updatedAt: now,
        });
      }
    } finally {
      store.close();
    }
    o.log(`${o.users} callers and ${o.users} callees stored, callee bindings -> 127.0.0.1:${uasPort} (${Math.round(performance.now() - t0)} ms)`);
    if (o.cpuProfDir) {
      mkdirSync(o.cpuProfDir, { recursive: true });
      o.log(`profiling the node into ${o.cpuProfDir}`);
    }
    const node = await startNode(config, o.dir, diagnostics({ cpuProfDir: o.cpuProfDir, traceGc: o.traceGc }));
    o.log(`outpost node on udp ${node.udp.host}:${node.udp.port} (pid ${node.proc.pid})`);
    return new CallsBox(node, uasPort, o);
  }

  dead(): string | undefined {
    return this.exitInfo;
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.node.proc.pid!);
  }

  rssMb(): number {
    return processRssMb(this.node.proc.pid!);
  }

  /** A fresh working directory for one step's sipps (their traces). */
  stepDir(name: string): string {
    const d = join(this.o.dir, `step-${String(++this.stepNo).padStart(3, '0')}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  countProblems(lines: Array<Record<string, unknown>>): void {
    for (const l of lines) {
      if (typeof l['level'] === 'number' && l['level'] >= 40) {
        const key = String(l['msg'] ?? l['raw'] ?? 'unknown').slice(0, 120);
        this.problems[key] = (this.problems[key] ?? 0) + 1;
      }
    }
  }

  /** Every warning and error so far, by message. */
  warnings(): Record<string, number> {
    this.countProblems(this.node.logs.splice(0));
    return { ...this.problems };
  }

  /**
   * GC pauses from the lines gc-trace-preload.mjs wrote among the node's log lines: count, total
   * and longest pause per kind (minor = scavenge, major = mark-compact, ...). Null without --trace-gc.
   */
  gcPauses(): GcPauses | null {
    if (!this.o.traceGc) return null;
    const out: GcPauses = {};
    for (const l of this.node.logs) {
      const kind = l['benchGc'];
      const ms = l['ms'];
      if (typeof kind !== 'string' || typeof ms !== 'number') continue;
      const e = (out[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      e.count++;
      e.totalMs = round(e.totalMs + ms, 2);
      e.maxMs = Math.max(e.maxMs, ms);
    }
    return out;
  }

  async startCallee(cwd: string, calls: number, deadlineS: number, trace: boolean): Promise<SippHandle> {
    return startBenchCallee(this.uasPort, cwd, calls, deadlineS, trace);
  }

  startCaller(cwd: string, o: CallerRun): SippHandle {
    // Only users that exist: an unknown one gets 403, and ten of those would get the caller's
    // address banned by the flood guard.
    const rows = Array.from({ length: Math.max(1, Math.min(o.calls, this.o.users)) }, (_, i) => callRow(callerExt(i), password(callerExt(i)), this.o.domain, calleeExt(i)));
    return startBenchCaller(this.node.udp, cwd, rows, o);
  }

  /** Relay counters from the CDRs of calls that started at or after `since` (Store API; the node keeps running). */
  cdrSummary(since: number): CdrSummary | null {
    let store: Store | undefined;
    try {
      store = Store.open({ dataDir: join(this.o.dir, 'data') });
      const cdrs = store.cdrs.since(since, 100_000);
      let packetsRelayed = 0;
      let lost = 0;
      let unexpectedSource = 0;
      let unroutable = 0;
      for (const c of cdrs) {
        const media = JSON.parse(c.media || '{}') as Record<string, Record<string, number>>;
        for (const leg of Object.values(media)) {
          packetsRelayed += leg['packetsIn'] ?? 0;
          lost += leg['lost'] ?? 0;
          unexpectedSource += leg['unexpectedSource'] ?? 0;
          unroutable += leg['unroutable'] ?? 0;
        }
      }
      return { count: cdrs.length, answered: cdrs.filter((c) => c.disposition === 'answered').length, packetsRelayed, lost, unexpectedSource, unroutable };
    } catch (err) {
      this.o.log(`could not read the CDRs: ${(err as Error).message}`);
      return null;
    } finally {
      store?.close();
    }
  }
}

/** A sipp caller run: `calls` calls at `rate`/s, each held `holdMs`, at most `maxConcurrent` at once. */
export interface CallerRun {
  calls: number;
  rate: number;
  holdMs: number;
  maxConcurrent: number;
  deadlineS: number;
  trace: boolean;
}

/** A row of the caller's injection file (call-uac-bench.xml): caller, credentials, domain, callee. */
export const callRow = (caller: string, pw: string, domain: string, callee: string) => `${caller};[authentication username=${caller} password=${pw}];${domain};${callee}`;

/** Starts the sipp callee (call-uas-bench.xml) on `port` once the previous one has let it go; resolves when it listens. */
export async function startBenchCallee(port: number, cwd: string, calls: number, deadlineS: number, trace: boolean): Promise<SippHandle> {
  // The previous callee must be gone: its port is in every binding.
  const free = Date.now() + 10_000;
  while (udpPortBound(port)) {
    if (Date.now() > free) throw new HarnessError(`udp port ${port} (the callee's) is still bound`);
    await sleep(100);
  }
  // -m with room to spare: a stray request left over from an earlier, overloaded step (a BYE
  // retransmission) counts as a call for sipp, and must not make it quit before this step's
  // last call. The bench stops the callee itself once the caller is done.
  const args = ['-sf', UAS_SCENARIO, '-p', String(port), '-m', String(calls * 2 + 100), '-l', String(calls * 2 + 100), '-timeout', `${deadlineS}s`, '-timeout_error', '-trace_err'];
  if (trace) args.push('-trace_logs', '-log_file', join(cwd, 'uas-ports.log'));
  const uas = startSipp({ args: [...args, ...SIPP_LOCAL], cwd, deadlineS: deadlineS + 10 });
  const up = Date.now() + 10_000;
  while (!udpPortBound(port)) {
    if (uas.proc.exitCode !== null) throw new HarnessError(`sipp callee exited at once: ${(await uas.done).stderr}`);
    if (Date.now() > up) throw new HarnessError('sipp callee did not bind its port within 10 s');
    await sleep(50);
  }
  return uas;
}

/** Starts the sipp caller (call-uac-bench.xml) towards `target`, row i of `rows` for its call i. */
export function startBenchCaller(target: { host: string; port: number }, cwd: string, rows: string[], o: CallerRun): SippHandle {
  const inf = join(cwd, 'callers.csv');
  // sipp's injection file, SEQUENTIAL: sipp starts over at the first row after the last.
  writeFileSync(inf, `SEQUENTIAL\n${rows.join('\n')}\n`);
  const args = [
    `${target.host}:${target.port}`,
    '-sf', UAC_SCENARIO,
    '-inf', inf,
    '-m', String(o.calls),
    '-r', String(o.rate),
    '-l', String(o.maxConcurrent),
    '-d', String(o.holdMs),
    '-timeout', `${o.deadlineS}s`,
    '-timeout_error',
    '-trace_err',
    '-trace_rtt', '-rtt_freq', '1',
  ];
  if (o.trace) args.push('-trace_logs', '-log_file', join(cwd, 'uac-ports.log'));
  return startSipp({ args: [...args, ...SIPP_LOCAL], cwd, deadlineS: o.deadlineS + 10 });
}

/** Logs the first lines of the sipp caller's error file. */
export function logCallerErrors(uac: SippHandle, log: (msg: string) => void): void {
  const errs = uac.file('_errors.log');
  if (errs) log(`sipp caller errors (first lines): ${errs.split('\n').slice(0, 12).join(' | ').slice(0, 1500)}`);
}

/**
 * From a -trace_rtt file (one line per answered call: ms since sipp started when the 200 came,
 * and the call's rtd = first INVITE sent -> 200 received): setup times, and the rate at which
 * those calls were started (each call started at its 200's time minus its rtd).
 */
export function setupTimes(rttCsv: string): { count: number; p50: number; p99: number; max: number; startRate: number | null } | null {
  const values: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (const line of rttCsv.split('\n')) {
    const f = line.split(';');
    const at = Number(f[0]);
    const v = Number(f[1]);
    if (f.length < 3 || !Number.isFinite(v) || !Number.isFinite(at) || !/^\d/.test(f[0] ?? '')) continue;
    values.push(v);
    first = Math.min(first, at - v);
    last = Math.max(last, at - v);
  }
  if (!values.length) return null;
  values.sort((a, b) => a - b);
  const q = (p: number) => values[Math.min(values.length - 1, Math.max(0, Math.ceil(values.length * p) - 1))]!;
  const startRate = values.length > 1 && last > first ? ((values.length - 1) * 1000) / (last - first) : null;
  return { count: values.length, p50: round(q(0.5), 2), p99: round(q(0.99), 2), max: round(values[values.length - 1]!, 2), startRate };
}

/**
 * The rate sipp started calls at: from the answered calls' start times when there are enough of
 * them, else (most calls failed) from the calls sipp created over its run time less the hold.
 */
export function offeredCallRate(setup: ReturnType<typeof setupTimes>, attempts: number, created: number, elapsedS: number, holdMs: number): number {
  if (setup?.startRate && setup.count >= attempts / 2) return setup.startRate;
  return created / Math.max(1e-3, elapsedS - holdMs / 1000);
}

/** The relay ports sipp logged per call (`A <callee> <port>` / `B <callee> <port>`), by callee. */
export function relayPorts(file: string, tag: 'A' | 'B'): Map<string, number> {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const out = new Map<string, number>();
  const re = new RegExp(`^${tag} (\\d+) (\\d+)\\s*$`, 'gm');
  for (const m of text.matchAll(re)) out.set(m[1]!, Number(m[2]));
  return out;
}
