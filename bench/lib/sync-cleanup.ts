/**
 * Teardown for a benchmark that starts children: cleanups run last-in first-out, on the normal
 * path, on failure and on SIGINT/SIGTERM (then exit 130), and a SIGKILL sweep on process exit
 * so that no child outlives the bench. Nothing in it is specific to bench/sync.ts.
 */
import type { ChildProcess } from 'node:child_process';

export class Teardown {
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  private readonly children = new Set<ChildProcess>();
  /** Set once a signal arrived: the handler is tearing everything down. */
  interrupted = false;

  constructor(private readonly log: (msg: string) => void) {}

  /** Installs the signal handlers and the exit sweep (once per process). */
  install(): this {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        this.interrupted = true;
        this.log(`${sig}: stopping everything`);
        void this.runAll().then(() => process.exit(130));
      });
    }
    // Last resort (an exception, process.exit): no child outlives the bench.
    process.on('exit', () => {
      for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
    return this;
  }

  /** Registers a cleanup (run in reverse order of registration). */
  push(fn: () => Promise<unknown>): void {
    this.cleanups.push(fn);
  }

  /** Tracks a child for the exit sweep until it exits. */
  own(c: ChildProcess): void {
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
  }

  /** Runs (and forgets) every registered cleanup; a failing one is logged, the rest still run. */
  async runAll(): Promise<void> {
    while (this.cleanups.length) {
      const fn = this.cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        this.log(`cleanup: ${(err as Error).message}`);
      }
    }
  }
}
