/**
 * Phase 1 of bench/sync.ts, the reference: a burst's changes built in a source store, read with
 * ChangeLog.page() and merged into a fresh store with ChangeLog.apply(), in one transaction and
 * in sync.batchSize pages (as receivers get them); best of `rawRepeats`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DirectSql } from '../../agent/store/direct-sql.ts';
import { Store } from '../../agent/store/store.ts';
import { waitForQuiet } from './quiet.ts';
import { log, round, type SyncBenchConfig } from './sync-config.ts';
import { now } from './outpost-process.ts';
import { CDR_INSERT, cdrRow, uuidOf } from './sync-writer.ts';
import { HarnessError } from './harness-error.ts';

export interface RawResult {
  changes: number;
  rows: number;
  buildMs: number;
  readMs: number;
  applyMs: number[];
  bestMs: number;
  changesPerS: number;
  /** CPU time of the merge per change (best run): a cost that does not depend on contention. */
  cpuUsPerChange: number;
  /** The same changes applied as the receivers get them: one transaction per sync.batchSize page. */
  batched: { batches: number; bestMs: number; changesPerS: number; cpuUsPerChange: number };
}

export async function rawMerge(cfg: SyncBenchConfig, base: string): Promise<RawResult> {
  const ROWS = cfg.rows;
  const srcDir = join(base, 'raw-source');
  const src = Store.open({ dataDir: srcDir });
  const t0 = now();
  const srcSql = DirectSql.of(src);
  const insert = srcSql.db.prepare(CDR_INSERT);
  const tx = srcSql.db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(...cdrRow(uuidOf('r-', i), 'n1', Date.now(), i));
  });
  for (let from = 0; from < ROWS; from += cfg.rowsPerTx) tx(from, Math.min(ROWS, from + cfg.rowsPerTx));
  srcSql.close();
  const buildMs = now() - t0;
  const t1 = now();
  const page = src.changes.page(0n, {}, 1e9);
  const readMs = now() - t1;
  const changes = page.changes;
  const pages = [];
  for (let since = 0n; ; ) {
    const p = src.changes.page(since, {}, cfg.sync.batchSize);
    if (p.changes.length) pages.push(p.changes);
    since = p.to;
    if (!p.more) break;
  }
  src.close();
  log(`raw: ${changes.length} changes (${ROWS} rows) built in ${Math.round(buildMs)} ms, read in ${Math.round(readMs)} ms`);

  const applyMs: number[] = [];
  const batchedMs: number[] = [];
  const applyCpuUs: number[] = [];
  const batchedCpuUs: number[] = [];
  for (let r = 0; r < cfg.rawRepeats; r++) {
    for (const batched of [false, true]) {
      const dir = join(base, `raw-target-${r}-${batched ? 'b' : 'w'}`);
      const target = Store.open({ dataDir: dir });
      await waitForQuiet(() => 0, log, 0.1, cfg.quietWaitS);
      const cpu0 = process.cpuUsage();
      const t = now();
      if (batched) pages.forEach((p, i) => target.changes.apply(p, { source: 'src', stream: 'own', version: BigInt(i + 1) }));
      else target.changes.apply(changes);
      const ms = now() - t;
      const cu = process.cpuUsage(cpu0);
      (batched ? batchedCpuUs : applyCpuUs).push((cu.user + cu.system) / changes.length);
      const targetSql = DirectSql.of(target);
      const rows = (targetSql.db.prepare('SELECT count(*) AS n FROM cdrs').get() as { n: number }).n;
      targetSql.close();
      target.close();
      rmSync(dir, { recursive: true, force: true });
      if (rows !== ROWS) throw new HarnessError(`raw merge: target holds ${rows} rows, expected ${ROWS}`);
      (batched ? batchedMs : applyMs).push(ms);
      log(`raw: apply ${batched ? `in ${pages.length} transactions` : 'in one transaction'} #${r + 1}: ${Math.round(ms)} ms = ${Math.round(changes.length / (ms / 1000))} changes/s`);
    }
  }
  rmSync(srcDir, { recursive: true, force: true });
  const bestMs = Math.min(...applyMs);
  const bestBatched = Math.min(...batchedMs);
  return {
    changes: changes.length,
    rows: ROWS,
    buildMs: Math.round(buildMs),
    readMs: Math.round(readMs),
    applyMs: applyMs.map((m) => Math.round(m)),
    bestMs: Math.round(bestMs),
    changesPerS: Math.round(changes.length / (bestMs / 1000)),
    cpuUsPerChange: round(Math.min(...applyCpuUs), 1),
    batched: {
      batches: pages.length,
      bestMs: Math.round(bestBatched),
      changesPerS: Math.round(changes.length / (bestBatched / 1000)),
      cpuUsPerChange: round(Math.min(...batchedCpuUs), 1),
    },
  };
}
