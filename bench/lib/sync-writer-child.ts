/**
 * The writer of bench/sync.ts, run as a child process (IPC): opens a node's store from outside
 * (as the CLI would) and commits CDR rows into it, either as a burst (transactions of
 * `rowsPerTx` rows, back to back) or as a trickle (one row per transaction at a fixed rate).
 * The running node sees these commits with its 50 ms head check and replicates them.
 *
 * Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin +
 * performance.now()), comparable with the parent's clock.
 */
import { DirectSql } from '../../agent/store/direct-sql.ts';
import { CDR_INSERT, cdrRow, uuidOf, type WriterReply, type WriterRequest } from './sync-writer.ts';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let store: DirectSql | undefined;

async function handle(req: WriterRequest): Promise<WriterReply> {
  switch (req.cmd) {
    case 'open':
      store = DirectSql.open(req.dataDir);
      return { ok: true, pid: process.pid };
    case 'burst': {
      const s = store!;
      const insert = s.db.prepare(CDR_INSERT);
      const tx = s.db.transaction((from: number, to: number) => {
        for (let i = from; i < to; i++) insert.run(...cdrRow(uuidOf(req.prefix, i), req.nodeId, Date.now(), i));
      });
      const startedAt = now();
      let firstCommitAt = 0;
      let txs = 0;
      for (let from = 0; from < req.rows; from += req.rowsPerTx) {
        tx(from, Math.min(req.rows, from + req.rowsPerTx));
        txs++;
        if (firstCommitAt === 0) firstCommitAt = now();
      }
      return { ok: true, startedAt, firstCommitAt, lastCommitAt: now(), txs };
    }
    case 'trickle': {
      // One row per transaction, every 1000/rate ms on a fixed schedule (no drift); `started_at`
      // holds the time just before the transaction, in epoch microseconds.
      const s = store!;
      const insert = s.db.prepare(CDR_INSERT);
      const commits: number[] = [];
      const starts: number[] = [];
      const t0 = now() + 20;
      const period = 1000 / req.rate;
      for (let i = 0; i < req.count; i++) {
        const due = t0 + i * period;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const before = now();
        insert.run(...cdrRow(uuidOf(req.prefix, i), req.nodeId, Math.round(before * 1000), i));
        commits.push(now());
        starts.push(before);
      }
      return { ok: true, commits, starts };
    }
    case 'close':
      store?.close();
      store = undefined;
      return { ok: true };
  }
}

process.on('message', (msg: WriterRequest) => {
  handle(msg).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ ok: false, error: (err as Error).stack ?? String(err) }),
  );
});
process.on('disconnect', () => {
  try {
    store?.close();
  } finally {
    process.exit(0);
  }
});
