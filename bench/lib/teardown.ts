/**
 * Teardown for a benchmark or a test process that starts children: cleanups run last-in first-out
 * (on the normal path, on failure, and on a signal, after which the process exits), temporary
 * directories are removed unless kept, and a SIGKILL sweep on process exit makes sure that no
 * owned child outlives the process. Used by every bench (but codecs.ts, which starts none) and
 * by test/helpers/sync-cluster.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './harness-error.ts';

/** Signals handled by install(), and the exit code the process then ends with. */
export type SignalExits = ReadonlyArray<readonly [NodeJS.Signals, number]>;

export class Teardown {
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  private readonly early: Array<() => Promise<unknown>> = [];
  private readonly children = new Set<ChildProcess>();
  /** Set once a signal arrived: the handler is tearing everything down. */
  interrupted = false;

  constructor(private readonly log: (msg: string) => void) {}

  /** Installs the signal handlers and the exit sweep (once per process). */
  install(signals: SignalExits = [['SIGINT', 130], ['SIGTERM', 130]]): this {
    for (const [sig, code] of signals) {
      process.once(sig, () => {
        this.interrupted = true;
        this.log(`${sig}: stopping everything`);
        void this.runAll().then(() => process.exit(code));
      });
    }
    // Last resort (an exception, process.exit): no child outlives the process.
    process.on('exit', () => {
      for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
    return this;
  }

  /** Registers a cleanup (run in reverse order of registration); returns it for forget(). */
  push<F extends () => Promise<unknown>>(fn: F): F {
    this.cleanups.push(fn);
    return fn;
  }

  /** Registers a cleanup that runs before all the others (e.g. stopping the load generators). */
  first(fn: () => Promise<unknown>): void {
    this.early.push(fn);
  }

  /** Drops a cleanup that the normal path is about to run itself. */
  forget(fn: () => Promise<unknown>): void {
    const i = this.cleanups.indexOf(fn);
    if (i >= 0) this.cleanups.splice(i, 1);
  }

  /** Runs `stop` now (forgetting it first), logging instead of throwing when it fails. */
  async release(stop: (() => Promise<unknown>) | undefined): Promise<void> {
    if (!stop) return;
    this.forget(stop);
    await stop().catch((err: Error) => this.log(`stop: ${err.message}`));
  }

  /** Tracks a child for the exit sweep until it exits. */
  own(c: ChildProcess): void {
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
  }

  /** A new temporary directory, removed by runAll() unless `keep` (then it is logged). */
  tempDir(prefix: string, keep = false): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    if (keep) this.log(`keeping ${dir}`);
    else this.push(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Throws once a signal arrived (for loops that should stop early). */
  check(): void {
    if (this.interrupted) throw new HarnessError('interrupted');
  }

  /** Runs (and forgets) every registered cleanup; a failing one is logged, the rest still run. */
  async runAll(): Promise<void> {
    for (const fns of [this.early, this.cleanups]) {
      while (fns.length) {
        const fn = fns.pop()!;
        try {
          await fn();
        } catch (err) {
          this.log(`cleanup: ${(err as Error).message}`);
        }
      }
    }
  }
}
