/**
 * Processes of bench/sync.ts: `outpost hub` / `outpost node` as children with their JSON log
 * lines captured (and timestamped on arrival), Mosquitto with a generated config, a free TCP
 * port, and a read-only view of a replica's store for polling.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { processCpuSeconds, stopProcess } from './procs.ts';

export const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Binds a TCP listener to 127.0.0.1:0, reads the port the OS chose, and closes it. */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

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

export interface LogLine {
  /** Arrival time at the bench, epoch ms. */
  at: number;
  line: Record<string, unknown>;
}

export interface SpawnOptions {
  /** Extra node flags before bin/outpost.js (e.g. --import of a preload). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** One `outpost hub|node` child process. */
export class OutpostProcess {
  readonly proc: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly spawnedAt = now();
  private readonly logFile: WriteStream;
  private stderr = '';
  exitInfo: string | undefined;
  /** Set once the bench asked it to stop (an exit is then expected, not a death). */
  stopping = false;

  constructor(
    readonly name: string,
    bin: string,
    role: 'hub' | 'node',
    readonly configFile: string,
    readonly cwd: string,
    options: SpawnOptions = {},
  ) {
    this.logFile = createWriteStream(join(cwd, `${name}.log`), { flags: 'a' });
    this.proc = spawn(process.execPath, [...(options.execArgv ?? []), bin, role, '--config', configFile], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let buffered = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      const at = now();
      this.logFile.write(chunk);
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          line = { raw: text };
        }
        this.logs.push({ at, line });
      }
    });
    this.proc.stderr!.on('data', (c: Buffer) => {
      this.logFile.write(c);
      this.stderr = (this.stderr + c.toString()).slice(-4000);
    });
    this.proc.once('exit', (code, signal) => {
      this.exitInfo = `exit code ${code}, signal ${signal}${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** The first log line at or after index `from` whose msg is `msg` (and matching `where`). */
  findLog(msg: string, from = 0, where: (l: Record<string, unknown>) => boolean = () => true): LogLine | undefined {
    for (let i = from; i < this.logs.length; i++) {
      const l = this.logs[i]!;
      if (l.line['msg'] === msg && where(l.line)) return l;
    }
    return undefined;
  }

  async waitForLog(msg: string, timeoutMs: number, where?: (l: Record<string, unknown>) => boolean): Promise<LogLine> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const l = this.findLog(msg, 0, where);
      if (l) return l;
      if (this.exitInfo) throw new Error(`${this.name} exited before logging "${msg}": ${this.exitInfo}`);
      if (now() > deadline) throw new Error(`${this.name} did not log "${msg}" within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  /** Warnings and errors logged so far (pino levels >= 40), by message. */
  problems(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { line } of this.logs) {
      if (typeof line['level'] === 'number' && line['level'] >= 40) {
        const key = `${line['level'] >= 50 ? 'error' : 'warn'}: ${String(line['msg'])}`;
        out[key] = (out[key] ?? 0) + 1;
      }
    }
    return out;
  }

  tail(n = 20): string {
    return this.logs
      .slice(-n)
      .map((l) => JSON.stringify(l.line))
      .join('\n');
  }

  async stop(graceMs = 15_000): Promise<number | null> {
    this.stopping = true;
    const code = await stopProcess(this.proc, { graceMs });
    if (!this.logFile.writableEnded) await new Promise<void>((r) => this.logFile.end(() => r()));
    return code;
  }
}

/** Waits for `<dataDir>/node.json` (written once a hub or node has started) and returns it. */
export async function waitForRuntimeFile(p: OutpostProcess, dataDir: string, timeoutMs: number): Promise<{ mqtt?: string; pid: number }> {
  const file = join(dataDir, 'node.json');
  const deadline = now() + timeoutMs;
  for (;;) {
    if (existsSync(file)) {
      try {
        const info = JSON.parse(readFileSync(file, 'utf8')) as { mqtt?: string; pid: number };
        if (info.pid === p.pid) return info;
      } catch {
        // being renamed into place
      }
    }
    if (p.exitInfo) throw new Error(`${p.name} exited before starting: ${p.exitInfo}`);
    if (now() > deadline) throw new Error(`${p.name} wrote no ${file} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export function findMosquitto(): { bin: string; version: string } | undefined {
  for (const bin of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) {
    if (!existsSync(bin)) continue;
    // mosquitto -h prints its usage (with the version) and exits 3.
    const res = spawnSync(bin, ['-h'], { encoding: 'utf8' });
    const version = /mosquitto version (\S+)/.exec(`${res.stdout}${res.stderr}`)?.[1] ?? 'unknown';
    return { bin, version };
  }
  return undefined;
}

export interface MosquittoProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  configFile: string;
  output(): string;
  cpuSeconds(): number;
  stop(): Promise<number | null>;
}

/**
 * Mosquitto on 127.0.0.1:`port` in the foreground: anonymous, no persistence, default queue and
 * in-flight limits (max_queued_messages 1000, max_inflight_messages 20) unless `maxQueued` is
 * given. `nodelay` sets `set_tcp_nodelay true` (Nagle off on its client sockets).
 */
export async function startMosquitto(bin: string, dir: string, port: number, nodelay: boolean, maxQueued?: number): Promise<MosquittoProcess> {
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...(nodelay ? ['set_tcp_nodelay true'] : []),
      ...(maxQueued !== undefined ? [`max_queued_messages ${maxQueued}`] : []),
      '',
    ].join('\n'),
  );
  const proc = spawn(bin, ['-c', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  proc.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  let exit: string | undefined;
  proc.once('exit', (code, signal) => (exit = `exit code ${code}, signal ${signal}`));
  const deadline = now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (exit) throw new Error(`mosquitto exited: ${exit}\n${out}`);
    if (now() > deadline) throw new Error(`mosquitto does not accept connections on port ${port}\n${out}`);
    await sleep(20);
  }
  return {
    proc,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    configFile,
    output: () => out,
    cpuSeconds: () => processCpuSeconds(proc.pid!),
    stop: () => stopProcess(proc, { graceMs: 5000 }),
  };
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
