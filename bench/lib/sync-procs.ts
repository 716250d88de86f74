/**
 * Helpers of bench/sync.ts's phases: the runqueue wait of a process, and a read-only view of a
 * replica's store for polling. The processes themselves are in cluster.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import { DirectSql } from '../../agent/store/direct-sql.ts';

/**
 * Seconds the threads of `pid` spent runnable but waiting for a core (/proc/PID/task/TID/schedstat,
 * second field, summed over the live threads): high means starved by other processes, as opposed
 * to idle. 0 once the process is gone.
 */
export function runqueueWaitSeconds(pid: number): number {
  let ns = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // thread gone
    }
  }
  return ns / 1e9;
}

/**
 * A read-only connection to a replica's `outpost.db` (no cr-sqlite extension: only plain tables
 * are read), for polling while the replica runs. WAL mode: every query sees the last commit.
 */
export class StoreView {
  private readonly sql: DirectSql;
  private readonly countRange: Statement<[string, string], { n: number }>;
  private readonly newRows: Statement<[string, string], { uuid: string }>;
  private readonly clockRows: Statement<[], { n: number }>;

  constructor(dataDir: string) {
    this.sql = DirectSql.open(dataDir, { readonly: true });
    const db = this.sql.db;
    this.countRange = db.prepare('SELECT count(*) AS n FROM cdrs WHERE uuid >= ? AND uuid < ?');
    this.newRows = db.prepare('SELECT uuid FROM cdrs WHERE uuid > ? AND uuid < ? ORDER BY uuid');
    this.clockRows = db.prepare('SELECT count(*) AS n FROM cdrs__crsql_clock');
  }

  /** Rows whose uuid starts with `prefix` (a range on the primary key). */
  count(prefix: string): number {
    return this.countRange.get(prefix, `${prefix}~`)!.n;
  }

  /** uuids after `after` that start with `prefix`, in order. */
  rowsAfter(prefix: string, after: string): string[] {
    return this.newRows.all(after < prefix ? prefix : after, `${prefix}~`).map((r) => r.uuid);
  }

  /** Column versions cr-sqlite holds for cdrs: one per (row, non-pk column), i.e. merged changes. */
  cdrChanges(): number {
    return this.clockRows.get()!.n;
  }

  close(): void {
    this.sql.close();
  }
}
