/**
 * Helpers of bench/sync.ts's phases: the runqueue wait of a process, and a read-only view of a
 * replica's store for polling. The processes themselves are in cluster.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

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
  private readonly db: Database.Database;
  private readonly countRange: Database.Statement<[string, string], { n: number }>;
  private readonly newRows: Database.Statement<[string, string], { uuid: string }>;
  private readonly clockRows: Database.Statement<[], { n: number }>;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'outpost.db'), { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.countRange = this.db.prepare('SELECT count(*) AS n FROM cdrs WHERE uuid >= ? AND uuid < ?');
    this.newRows = this.db.prepare('SELECT uuid FROM cdrs WHERE uuid > ? AND uuid < ? ORDER BY uuid');
    this.clockRows = this.db.prepare('SELECT count(*) AS n FROM cdrs__crsql_clock');
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
    this.db.close();
  }
}
