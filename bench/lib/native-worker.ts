/**
 * The plumbing of the benches' load generator processes, shared by bench/lib/rtp-load.ts and
 * bench/lib/transcode-load.ts:
 *   - nativeWorkerBinary(): a C worker (bench/lib/*-load-worker.c, with the headers it includes
 *     in quotes, e.g. rtp-load-common.h) compiled with `cc -O2` on first use, once per version of
 *     its sources, into a directory under the OS's temporary directory;
 *   - WorkerChannel: one request outstanding at a time, replies matched in order, the worker's
 *     death or silence turned into a rejection, stop = ask, then signals (rtp-load.ts also uses
 *     it for its Node.js worker over IPC);
 *   - LineWorker: a compiled worker spawned and spoken to one line per command on stdin, one line
 *     per reply on stdout ("error ..." fails the request).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './procs.ts';
import { HarnessError } from './harness-error.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles `source` (a .c file; its `#include "…"` headers are found next to it) into
 * `<tmpdir>/outpost-bench-<name>-<hash>/<name>-worker`, where `<name>-worker.c` is the source's
 * name and the hash covers the source and those headers; returns the binary's path, built only
 * when it is not there yet. Throws when there is no C compiler.
 */
export function nativeWorkerBinary(source: string): string {
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text);
  for (const m of text.toString('utf8').matchAll(/^#include "([^"]+)"/gm)) hash.update(readFileSync(join(dirname(source), m[1]!)));
  const name = basename(source, '.c');
  const dir = join(tmpdir(), `outpost-bench-${name.replace(/-worker$/, '')}-${hash.digest('hex').slice(0, 16)}`);
  const binary = join(dir, name);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const tmp = `${binary}.${process.pid}`;
  const res = spawnSync('cc', ['-O2', '-Wall', '-o', tmp, source, '-lm'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new HarnessError(`cc could not build ${source}: ${res.error?.message ?? ''}${res.stderr}`);
  renameSync(tmp, binary);
  return binary;
}

/** A worker process spoken to one request at a time; `label` names it in errors ("rtp-load worker 0"). */
export abstract class WorkerChannel<Request, Reply> {
  private waiting: { resolve: (reply: Reply) => void; reject: (e: Error) => void } | undefined;
  private exitInfo: string | undefined;

  constructor(
    readonly proc: ChildProcess,
    readonly label: string,
  ) {
    proc.once('exit', (code, signal) => this.gone(`${label} exited (code ${code}, signal ${signal})`));
    proc.once('error', (err) => this.gone(`${label}: ${err.message}`));
  }

  private gone(info: string): void {
    this.exitInfo = info;
    this.waiting?.reject(new HarnessError(info));
    this.waiting = undefined;
  }

  /** Hands a reply to the request that waits for it (dropped when none does). */
  protected deliver(reply: Reply): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(reply);
  }

  /** Fails the request that waits, with `<label>: <message>`. */
  protected deliverError(message: string): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(new HarnessError(`${this.label}: ${message}`));
  }

  /** Waits for the next reply (the first one is the worker's 'ready'). */
  next(timeoutMs: number, what: string): Promise<Reply> {
    if (this.exitInfo) return Promise.reject(new HarnessError(this.exitInfo));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new HarnessError(`${this.label}: no reply to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  request(req: Request, timeoutMs: number): Promise<Reply> {
    const reply = this.next(timeoutMs, this.describe(req));
    this.write(req);
    return reply;
  }

  /** Why the worker is gone, once it is. */
  get dead(): string | undefined {
    return this.exitInfo;
  }

  /** Asks the worker to exit, gives it a moment, then stops it with signals (SIGTERM, SIGKILL). */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        this.write(this.exitRequest());
      } catch {
        // channel already closed
      }
      await Promise.race([new Promise((r) => this.proc.once('exit', r)), new Promise((r) => setTimeout(r, 500))]);
    }
    await stopProcess(this.proc, { graceMs: 3000 });
  }

  protected abstract write(req: Request): void;
  /** The request's name in a timeout's message. */
  protected abstract describe(req: Request): string;
  protected abstract exitRequest(): Request;
}

/** A compiled worker (nativeWorkerBinary()): commands are lines on its stdin, replies lines on its stdout. */
export class LineWorker extends WorkerChannel<string, string> {
  constructor(binary: string, label: string) {
    super(spawn(binary, [], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] }), label);
    this.proc.stdin!.on('error', () => {}); // a dead worker is reported through 'exit'
    createInterface({ input: this.proc.stdout! }).on('line', (line) => (line.startsWith('error') ? this.deliverError(line) : this.deliver(line)));
  }

  protected write(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  protected describe(line: string): string {
    return line.split(' ')[0]!;
  }

  protected exitRequest(): string {
    return 'exit';
  }
}
