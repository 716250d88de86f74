/**
 * The parent side of bench/lib/sync-writer-child.ts: a child process that opens a node's store
 * and commits CDR rows into it on request, so that the bench's own event loop stays free to
 * poll the receiving store while the writes happen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { stopProcess } from './procs.ts';
import { HarnessError } from './harness-error.ts';

export type WriterRequest =
  | { cmd: 'open'; dataDir: string }
  | { cmd: 'burst'; prefix: string; nodeId: string; rows: number; rowsPerTx: number }
  | { cmd: 'trickle'; prefix: string; nodeId: string; rate: number; count: number }
  | { cmd: 'close' };

export type WriterReply =
  | { ok: true; pid?: number; startedAt?: number; firstCommitAt?: number; lastCommitAt?: number; txs?: number; commits?: number[]; starts?: number[] }
  | { ok: false; error: string };

export interface BurstResult {
  startedAt: number;
  firstCommitAt: number;
  lastCommitAt: number;
  txs: number;
}

/** The primary key of row `i` of a run: sorts in write order, so `uuid > last` finds new rows. */
export const uuidOf = (prefix: string, i: number) => `${prefix}${String(i).padStart(8, '0')}`;

/** CDR columns other than the primary key: the changes one inserted row makes. */
export const CHANGES_PER_ROW = 17;

/** One CDR row: 18 columns, so 17 changes (one per non-primary-key column) per inserted row. */
export function cdrRow(uuid: string, nodeId: string, startedAt: number, i: number): unknown[] {
  const t = Math.floor(startedAt);
  return [
    uuid,
    nodeId,
    `sip:${1000 + (i % 9000)}@bench.local`,
    `sip:${2000 + (i % 7000)}@bench.local`,
    startedAt,
    t + 1500,
    t + 61_500,
    60_000,
    'answered',
    200,
    'OK',
    'caller',
    'PCMU',
    'PCMU',
    `a-${uuid}@127.0.0.1`,
    `b-${uuid}@127.0.0.1`,
    '{"a":{"packets":3000,"bytes":516000,"lost":0},"b":{"packets":3000,"bytes":516000,"lost":0}}',
    '',
  ];
}

export const CDR_INSERT = `INSERT INTO cdrs (uuid, node_id, caller, callee, started_at, answered_at, ended_at, duration_ms,
  disposition, sip_status, sip_reason, ended_by, codec_a, codec_b, a_call_id, b_call_id, media, link)
  VALUES (${Array(18).fill('?').join(', ')})`;

const CHILD = join(import.meta.dirname, 'sync-writer-child.ts');

export class SyncWriter {
  readonly proc: ChildProcess;
  private queue: Array<(r: WriterReply) => void> = [];
  private exited: string | undefined;

  private constructor(cwd: string) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: WriterReply) => this.queue.shift()?.(m));
    this.proc.once('exit', (code, signal) => {
      this.exited = `writer exited (code ${code}, signal ${signal})`;
      for (const r of this.queue.splice(0)) r({ ok: false, error: this.exited });
    });
  }

  /** Starts the child (cwd: where `tsx` resolves) and opens the store of `dataDir`. */
  static async open(cwd: string, dataDir: string): Promise<SyncWriter> {
    const w = new SyncWriter(cwd);
    await w.request({ cmd: 'open', dataDir });
    return w;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  private request(req: WriterRequest): Promise<WriterReply & { ok: true }> {
    if (this.exited) return Promise.reject(new HarnessError(this.exited));
    return new Promise((resolve, reject) => {
      this.queue.push((r) => (r.ok ? resolve(r) : reject(new HarnessError(`writer: ${r.error}`))));
      this.proc.send(req);
    });
  }

  async burst(prefix: string, nodeId: string, rows: number, rowsPerTx: number): Promise<BurstResult> {
    const r = await this.request({ cmd: 'burst', prefix, nodeId, rows, rowsPerTx });
    return { startedAt: r.startedAt!, firstCommitAt: r.firstCommitAt!, lastCommitAt: r.lastCommitAt!, txs: r.txs! };
  }

  /**
   * Commits `count` single-row transactions at `rate`/s; returns, per transaction, the time
   * just before the INSERT and the time its commit returned (epoch ms).
   */
  async trickle(prefix: string, nodeId: string, rate: number, count: number): Promise<{ starts: number[]; commits: number[] }> {
    const r = await this.request({ cmd: 'trickle', prefix, nodeId, rate, count });
    return { starts: r.starts!, commits: r.commits! };
  }

  async close(): Promise<void> {
    if (!this.exited) await this.request({ cmd: 'close' }).catch(() => undefined);
    if (this.proc.connected) this.proc.disconnect();
    await stopProcess(this.proc, { graceMs: 5000 });
  }
}
