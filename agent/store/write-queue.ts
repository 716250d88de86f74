/**
 * Group commit (DESIGN.md principle 4): writes submitted within `windowMs` of the first pending
 * one run in one transaction, and each submitter's promise settles only after that transaction
 * committed (synchronous=FULL, so the commit is on disk). A window of a few milliseconds turns
 * hundreds of fsyncs a second into a few hundred at most, whatever the write rate. One failing write is rolled back to
 * its savepoint and rejects alone; the others still commit.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.ts';

interface PendingWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface WriteQueueOptions {
  /** Largest number of writes in one transaction. */
  maxBatch?: number;
  /** How long the first pending write waits for company, ms (0: until the next loop turn). */
  windowMs?: number;
}

export class WriteQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly runBatch: (batch: PendingWrite[]) => Array<{ ok: boolean; value: unknown }>;
  /** Transactions committed so far (for metrics and benchmarks). */
  commits = 0;
  /** Called after each group transaction commits (sync pushes the new changes). */
  onCommit: (() => void) | undefined;

  constructor(db: Database, options: WriteQueueOptions = {}) {
    this.maxBatch = options.maxBatch ?? 1024;
    this.windowMs = options.windowMs ?? 2;
    const one = (fn: () => unknown) => db.transaction(fn)();
    this.runBatch = db.transaction((batch: PendingWrite[]) =>
      batch.map((w) => {
        try {
          return { ok: true, value: one(w.fn) };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    );
  }

  /** Runs `fn` inside the next group transaction; resolves with its result after commit. */
  submit<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('store.closed', 'store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything pending now (also called on close). */
  flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let results: Array<{ ok: boolean; value: unknown }>;
      try {
        results = this.runBatch(batch);
        this.commits++;
      } catch (err) {
        const failure = new StoreError('store.write', `group commit failed: ${(err as Error).message}`, { cause: err });
        for (const w of batch) w.reject(failure);
        continue;
      }
      results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.value)));
      this.onCommit?.();
    }
  }

  /** Flushes and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
