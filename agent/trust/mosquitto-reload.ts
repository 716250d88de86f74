/**
 * The hub keeps Mosquitto's ACL and CRL current (docs/cli/broker.md "Kept up to date by the
 * hub"): every second it compares a cheap mark of what they depend on (how many certificates the
 * CA issued, how many are revoked); when it moved, it rewrites the files (mosquitto-files.ts)
 * and tells Mosquitto to reload: SIGHUP to the pid in `mosquitto.pidFile`, or the shell command
 * `mosquitto.reloadCommand`. Mosquitto 2.0 re-reads its ACL file, its CRL and its listener's
 * certificate on SIGHUP, and none of them between two (verified by test/integration/
 * mosquitto-acl.test.ts); connections already open stay open.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { CA_DIR } from './ca.ts';
import { TrustError } from './errors.ts';

export interface MosquittoReloadOptions {
  clock: Clock;
  logger: Logger;
  /** What the files depend on, cheaply (changes when they must be rewritten). */
  mark: () => string;
  /** Rewrites the ACL and CRL; resolves to what to log. */
  rewrite: () => Promise<Record<string, unknown>>;
  /**
   * Tells Mosquitto to reload files complete since `writtenAt` (ms since the epoch); undefined: the
   * operator does (logged once).
   */
  reload: ((writtenAt: number) => Promise<void>) | undefined;
  intervalMs?: number;
}

export class MosquittoReload {
  #timer: TimerHandle | undefined;
  #last: string | undefined;
  #running = false;
  #warned = false;
  #lastError: string | undefined;
  /** Rewrites done since start (the first one included). */
  rewrites = 0;

  constructor(private readonly o: MosquittoReloadOptions) {}

  /** Rewrites once now (files of an older run may be stale), then on each change. */
  start(): void {
    this.#running = true;
    void this.check();
  }

  stop(): void {
    this.#running = false;
    this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One round: rewrite and reload when the mark moved. */
  async check(): Promise<void> {
    try {
      const mark = this.o.mark();
      if (mark !== this.#last) {
        const summary = await this.o.rewrite();
        const writtenAt = this.o.clock.now();
        this.rewrites++;
        if (this.o.reload) {
          await this.o.reload(writtenAt);
          this.#last = mark;
          this.o.logger.info(summary, 'mosquitto files rewritten and reloaded');
        } else {
          this.#last = mark;
          this.o.logger.info(summary, 'mosquitto files rewritten');
          if (!this.#warned) this.o.logger.warn({}, 'mosquitto.pidFile and mosquitto.reloadCommand are unset: reload Mosquitto (SIGHUP) yourself after enrolments and revocations');
          this.#warned = true;
        }
      }
      this.#lastError = undefined;
    } catch (err) {
      // Logged once per distinct failure (Mosquitto not started yet fails every second).
      const message = (err as Error).message;
      if (message !== this.#lastError) this.o.logger.error({ err: message }, 'mosquitto files or reload failed; retrying every second');
      this.#lastError = message;
    }
    if (this.#running) this.#timer = this.o.clock.setTimeout(() => void this.check(), this.o.intervalMs ?? 1000);
  }
}

/** The mark of a hub: certificates issued and revoked (both only grow). */
export function hubMark(hubDataDir: string, revokedCount: () => number): string {
  const dir = join(hubDataDir, CA_DIR, 'issued');
  return `${existsSync(dir) ? readdirSync(dir).length : 0}/${revokedCount()}`;
}

/**
 * SIGHUP to the pid in `pidFile`, or `command` in a shell. A Mosquitto that wrote its pid file
 * after the files were written read them at its start: it is not signalled (a SIGHUP before it
 * set up its handlers would end it).
 */
export function mosquittoReloader(m: { pidFile?: string | undefined; reloadCommand?: string | undefined }): ((writtenAt: number) => Promise<void>) | undefined {
  const { pidFile, reloadCommand } = m;
  if (pidFile !== undefined) {
    return async (writtenAt) => {
      if (statSync(pidFile).mtimeMs > writtenAt) return;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 1) throw new TrustError('trust.mosquitto', `mosquitto.pidFile ${pidFile} holds no pid`);
      process.kill(pid, 'SIGHUP');
    };
  }
  if (reloadCommand !== undefined) {
    return () =>
      new Promise<void>((resolve, reject) =>
        execFile('/bin/sh', ['-c', reloadCommand], { timeout: 30_000 }, (err, _out, stderr) =>
          err ? reject(new TrustError('trust.mosquitto', `mosquitto.reloadCommand failed: ${err.message} ${stderr.trim()}`)) : resolve(),
        ),
      );
  }
  return undefined;
}
