/**
 * G.711-like RTP load through a relay, for bench/media-relay.ts and bench/calls.ts.
 *
 * A *flow* is one call's media: two phones (A and B, one UDP socket each on 127.0.0.1) that each
 * send 172-byte RTP packets every 20 ms to their side of the relay, and receive the other's.
 * So a flow is 100 packets/s into the relay and 100 out. The sockets live in one or more
 * generator processes; flow g belongs to worker g % workers. Two implementations of the worker
 * do exactly the same thing (packet layout, pacing, measurements):
 *   - 'native' (default): bench/lib/rtp-load-worker.c, compiled with `cc -O2` on first use into
 *     a directory under the OS's temporary directory, driven over stdin/stdout (the plumbing:
 *     bench/lib/native-worker.ts, shared with bench/lib/transcode-load.ts). About 5 µs of CPU
 *     per packet (send + receive) on loopback, half of what Node.js needs, which leaves the
 *     relay under test more of a 2-core machine.
 *   - 'node': bench/lib/rtp-load-worker.ts, forked with an IPC channel (no compiler needed).
 *
 * Use: start() -> open(n) (binds sockets, returns their ports) -> setTargets() (the relay ports
 * each phone sends to) -> prime() (one packet per socket, so the relay latches) -> run(n, s).
 * A run measures: packets sent and received, loss (sent - received after a drain time),
 * reordering, and the latency generator -> relay -> generator (p50/p90/p99/max).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LineWorker, nativeWorkerBinary, WorkerChannel } from './native-worker.ts';
import { processCpuSeconds } from './procs.ts';
import { HarnessError } from './harness-error.ts';

const NODE_WORKER = fileURLToPath(new URL('./rtp-load-worker.ts', import.meta.url));
const NATIVE_WORKER_SOURCE = fileURLToPath(new URL('./rtp-load-worker.c', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const PACKETS_PER_SECOND_PER_DIRECTION = 50;
export const PACKET_BYTES = 172;

/** Latency histogram: 10 µs bins below 50 ms, 1 ms bins from 50 ms to 2050 ms, then overflow. */
export const HIST_FINE_BINS = 5000;
export const HIST_BINS = HIST_FINE_BINS + 2001;
export function latencyBin(ms: number): number {
  if (ms < 0) return 0;
  if (ms < 50) return Math.floor(ms * 100);
  return HIST_FINE_BINS + Math.min(2000, Math.floor(ms - 50));
}
/** The upper edge of a bin, in ms. */
export function binUpperMs(bin: number): number {
  return bin < HIST_FINE_BINS ? (bin + 1) / 100 : 50 + (bin - HIST_FINE_BINS + 1);
}

export interface WorkerRunResult {
  flows: number;
  /** Packets sent and received in this run (both directions summed). */
  sent: number;
  received: number;
  /** Received with a counter not above the last one seen on that flow+direction. */
  reordered: number;
  /** From an earlier run (arrived after that run's drain), or not ours. */
  stale: number;
  /** Arrived on a socket other than the one it was addressed to (crossed flows). */
  misrouted: number;
  /** Seconds from the first to the last send. */
  sendSpanS: number;
  /** How far behind its schedule the sender was at worst, ms. */
  maxSendLagMs: number;
  /** Latency histogram (HIST_BINS counts). */
  hist: number[];
  /** CPU seconds the worker used during the run (user+system). */
  cpuS: number;
  /** send() calls that threw (never expected). */
  sendErrors: number;
  /** Socket 'error' events (e.g. an ICMP port unreachable reported on a later send). */
  socketErrors: number;
}

export type ToWorker =
  | { type: 'open'; count: number }
  | { type: 'targets'; targets: Array<{ flow: number; aSendsTo: number; bSendsTo: number }> }
  | { type: 'prime'; count: number }
  | { type: 'run'; count: number; durationMs: number; drainMs: number; runId: number }
  | { type: 'exit' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'opened'; ports: Array<{ a: number; b: number }> }
  | { type: 'ok' }
  | { type: 'result'; result: WorkerRunResult }
  | { type: 'error'; message: string };

export interface RunSummary {
  calls: number;
  /** Packets per second the generator offered the relay (both directions): sent / send span. */
  offeredPps: number;
  sent: number;
  received: number;
  lost: number;
  lossRatio: number;
  reordered: number;
  stale: number;
  misrouted: number;
  /** generator -> relay -> generator, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Worst lag of the sender behind its schedule (any worker), ms: > a few ms = generator starved. */
  maxSendLagMs: number;
  /** Seconds the slowest worker took to send its share (the schedule says durationS). */
  sendSpanS: number;
  /** CPU seconds used by all workers during the run, as reported by themselves. */
  generatorCpuS: number;
  sendErrors: number;
  socketErrors: number;
}

export function percentileMs(hist: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i]!;
  if (total === 0) return NaN;
  const want = Math.max(1, Math.ceil(total * q));
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= want) return binUpperMs(i);
  }
  return binUpperMs(hist.length - 1);
}

interface WorkerHandle {
  readonly proc: ChildProcess;
  readonly dead: string | undefined;
  /** Waits for the next message (the first one is 'ready'). */
  next(timeoutMs: number, what: string): Promise<FromWorker>;
  request(msg: ToWorker, timeoutMs: number): Promise<FromWorker>;
  /** Asks the worker to exit, then stops it with signals if it does not. */
  stop(): Promise<void>;
}

/** bench/lib/rtp-load-worker.ts, forked with an IPC channel. */
class NodeWorker extends WorkerChannel<ToWorker, FromWorker> implements WorkerHandle {
  constructor(index: number) {
    super(fork(NODE_WORKER, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), `rtp-load worker ${index}`);
    this.proc.on('message', (m: unknown) => {
      const msg = m as FromWorker;
      if (msg.type === 'error') this.deliverError(msg.message);
      else this.deliver(msg);
    });
  }

  protected write(msg: ToWorker): void {
    this.proc.send(msg);
  }

  protected describe(msg: ToWorker): string {
    return msg.type;
  }

  protected exitRequest(): ToWorker {
    return { type: 'exit' };
  }
}

/** bench/lib/rtp-load-worker.c, compiled, speaking one line per command/reply on stdin/stdout. */
class NativeWorker implements WorkerHandle {
  private readonly lines: LineWorker;

  constructor(binary: string, index: number) {
    this.lines = new LineWorker(binary, `rtp-load worker ${index}`);
  }

  get proc(): ChildProcess {
    return this.lines.proc;
  }

  get dead(): string | undefined {
    return this.lines.dead;
  }

  async next(timeoutMs: number, what: string): Promise<FromWorker> {
    return this.parse(await this.lines.next(timeoutMs, what));
  }

  async request(msg: ToWorker, timeoutMs: number): Promise<FromWorker> {
    return this.parse(await this.lines.request(nativeCommand(msg), timeoutMs));
  }

  stop(): Promise<void> {
    return this.lines.stop();
  }

  private parse(line: string): FromWorker {
    const msg = parseNativeReply(line);
    if (msg.type === 'error') throw new HarnessError(`${this.lines.label}: ${msg.message}`);
    return msg;
  }
}

function nativeCommand(msg: ToWorker): string {
  switch (msg.type) {
    case 'open':
      return `open ${msg.count}`;
    case 'targets':
      return `targets ${msg.targets.map((t) => `${t.flow} ${t.aSendsTo} ${t.bSendsTo}`).join(' ')}`;
    case 'prime':
      return `prime ${msg.count}`;
    case 'run':
      return `run ${msg.count} ${msg.durationMs} ${msg.drainMs} ${msg.runId}`;
    case 'exit':
      return 'exit';
  }
}

function parseNativeReply(line: string): FromWorker {
  const [head = '', histText = ''] = line.split('|');
  const f = head.trim().split(/\s+/);
  switch (f[0]) {
    case 'ready':
      return { type: 'ready' };
    case 'ok':
      return { type: 'ok' };
    case 'opened': {
      const ports: Array<{ a: number; b: number }> = [];
      for (let i = 1; i + 1 < f.length; i += 2) ports.push({ a: Number(f[i]), b: Number(f[i + 1]) });
      return { type: 'opened', ports };
    }
    case 'result': {
      const n = f.slice(1).map(Number);
      const hist = new Array<number>(HIST_BINS).fill(0);
      for (const pair of histText.trim().split(/\s+/)) {
        if (!pair) continue;
        const [bin, count] = pair.split(':').map(Number);
        if (bin !== undefined && count !== undefined && bin >= 0 && bin < HIST_BINS) hist[bin] = count;
      }
      return {
        type: 'result',
        result: {
          flows: n[0]!, sent: n[1]!, received: n[2]!, reordered: n[3]!, stale: n[4]!, misrouted: n[5]!,
          sendSpanS: n[6]!, maxSendLagMs: Math.round(n[7]! * 100) / 100, cpuS: n[8]!, sendErrors: n[9]!, socketErrors: n[10]!, hist,
        },
      };
    }
    default:
      return { type: 'error', message: line };
  }
}

export type GeneratorKind = 'native' | 'node';

export interface RtpLoadOptions {
  /** Generator processes (default 1). */
  workers?: number;
  /** The C generator (default) or the Node.js one. */
  kind?: GeneratorKind;
  /** CPU list per worker for taskset (e.g. ['1']); unpinned when absent. */
  cpus?: string[];
}

export class RtpLoad {
  private readonly workers: WorkerHandle[];
  private opened = 0;
  private runId = 1;

  private constructor(
    workers: WorkerHandle[],
    readonly kind: GeneratorKind,
  ) {
    this.workers = workers;
  }

  static async start(options: RtpLoadOptions = {}): Promise<RtpLoad> {
    const n = options.workers ?? 1;
    const kind = options.kind ?? 'native';
    const binary = kind === 'native' ? nativeWorkerBinary(NATIVE_WORKER_SOURCE) : undefined;
    const workers: WorkerHandle[] = [];
    const load = new RtpLoad(workers, kind);
    try {
      for (let i = 0; i < n; i++) {
        const w: WorkerHandle = binary ? new NativeWorker(binary, i) : new NodeWorker(i);
        const ready = w.next(20_000, 'start');
        workers.push(w);
        if ((await ready).type !== 'ready') throw new HarnessError(`rtp-load worker ${i}: no 'ready' message`);
        const cpu = options.cpus?.[i];
        if (cpu !== undefined) pinProcess(w.proc.pid!, cpu);
      }
    } catch (err) {
      await load.stop();
      throw err;
    }
    return load;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.proc.pid!);
  }

  get flowCount(): number {
    return this.opened;
  }

  /** A reason when a worker has died. */
  dead(): string | undefined {
    return this.workers.map((w) => w.dead).find((d) => d !== undefined);
  }

  /** CPU seconds used so far by all generator processes (from /proc). */
  cpuSeconds(): number {
    return this.workers.reduce((sum, w) => sum + processCpuSeconds(w.proc.pid!), 0);
  }

  private owner(flow: number): { worker: WorkerHandle; local: number } {
    const W = this.workers.length;
    return { worker: this.workers[flow % W]!, local: Math.floor(flow / W) };
  }

  /** Flows [0, n) of the given total that belong to worker w. */
  private share(n: number, w: number): number {
    const W = this.workers.length;
    return Math.max(0, Math.floor((n - w + W - 1) / W));
  }

  /**
   * Opens flows up to `total` (no-op for those already open). Returns the ports of every open
   * flow, by global index: where the relay must send phone A's and phone B's media.
   */
  async open(total: number): Promise<Array<{ a: number; b: number }>> {
    const perWorker = await Promise.all(
      this.workers.map(async (w, i) => {
        const have = this.share(this.opened, i);
        const want = this.share(total, i);
        if (want <= have) return [];
        const reply = await w.request({ type: 'open', count: want - have }, 60_000);
        if (reply.type !== 'opened') throw new HarnessError(`rtp-load worker ${i}: unexpected reply ${reply.type}`);
        return reply.ports;
      }),
    );
    const before = this.opened;
    this.opened = Math.max(this.opened, total);
    this.ports ??= [];
    for (let g = before; g < this.opened; g++) {
      const { local } = this.owner(g);
      const w = g % this.workers.length;
      const list = perWorker[w]!;
      const offset = local - this.share(before, w);
      this.ports[g] = list[offset]!;
    }
    return this.ports.slice(0, this.opened);
  }

  private ports: Array<{ a: number; b: number }> | undefined;

  /** Where each flow's phones send: phone A to `aSendsTo`, phone B to `bSendsTo` (127.0.0.1). */
  async setTargets(targets: Array<{ flow: number; aSendsTo: number; bSendsTo: number }>): Promise<void> {
    const per: Array<Array<{ flow: number; aSendsTo: number; bSendsTo: number }>> = this.workers.map(() => []);
    for (const t of targets) {
      if (t.flow >= this.opened) throw new HarnessError(`flow ${t.flow} is not open`);
      const { local } = this.owner(t.flow);
      per[t.flow % this.workers.length]!.push({ flow: local, aSendsTo: t.aSendsTo, bSendsTo: t.bSendsTo });
    }
    await Promise.all(this.workers.map((w, i) => (per[i]!.length ? w.request({ type: 'targets', targets: per[i]! }, 30_000) : undefined)));
  }

  /** One packet from each phone of flows [0, count): the relay latches onto the phones' sockets. */
  async prime(count: number): Promise<void> {
    await Promise.all(this.workers.map((w, i) => w.request({ type: 'prime', count: this.share(count, i) }, 30_000)));
  }

  /** Runs flows [0, count) for `durationS`, waits `drainMs` for late packets, and sums up. */
  async run(count: number, durationS: number, drainMs = 500): Promise<RunSummary> {
    if (count > this.opened) throw new HarnessError(`run of ${count} flows, only ${this.opened} open`);
    const runId = (this.runId = (this.runId % 65000) + 1);
    const results = await Promise.all(
      this.workers.map(async (w, i) => {
        const n = this.share(count, i);
        const reply = await w.request({ type: 'run', count: n, durationMs: Math.round(durationS * 1000), drainMs, runId }, durationS * 1000 * 3 + drainMs + 30_000);
        if (reply.type !== 'result') throw new HarnessError(`rtp-load worker ${i}: unexpected reply ${reply.type}`);
        return reply.result;
      }),
    );
    const hist = new Array<number>(HIST_BINS).fill(0);
    for (const r of results) for (let i = 0; i < HIST_BINS; i++) hist[i]! += r.hist[i]!;
    const sum = (f: (r: WorkerRunResult) => number) => results.reduce((a, r) => a + f(r), 0);
    const sent = sum((r) => r.sent);
    const received = sum((r) => r.received);
    const lost = Math.max(0, sent - received);
    const sendSpanS = Math.max(...results.map((r) => r.sendSpanS));
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    return {
      calls: count,
      offeredPps: Math.round(sent / Math.max(sendSpanS, 1e-3)),
      sent,
      received,
      lost,
      lossRatio: sent > 0 ? lost / sent : 0,
      reordered: sum((r) => r.reordered),
      stale: sum((r) => r.stale),
      misrouted: sum((r) => r.misrouted),
      latencyMs: { p50: r3(percentileMs(hist, 0.5)), p90: r3(percentileMs(hist, 0.9)), p99: r3(percentileMs(hist, 0.99)), max: r3(percentileMs(hist, 1)) },
      maxSendLagMs: Math.max(...results.map((r) => r.maxSendLagMs)),
      sendSpanS: r3(sendSpanS),
      generatorCpuS: r3(sum((r) => r.cpuS)),
      sendErrors: sum((r) => r.sendErrors),
      socketErrors: sum((r) => r.socketErrors),
    };
  }

  /** Stops every worker (asks, then SIGTERM/SIGKILL). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}

/** Pins every thread of a process to a CPU list (taskset -a -p -c). */
export function pinProcess(pid: number, cpuList: string): void {
  const res = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { encoding: 'utf8' });
  if (res.status !== 0) throw new HarnessError(`taskset -a -p -c ${cpuList} ${pid} failed: ${res.stderr}${res.error?.message ?? ''}`);
}
