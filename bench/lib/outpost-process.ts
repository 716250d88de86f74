/**
 * One `outpost hub` or `outpost node` child process of a replication cluster (cluster.ts), for
 * bench/sync.ts and the sync integration tests: its config and data directory, stdout and stderr
 * appended to `<name>.log`, the JSON log lines kept with their arrival time, and the runtime file
 * (`<dataDir>/node.json`) polled with a deadline to know it has started. Restartable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import type { RuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { nodeCommand, onJsonLines, OUTPOST_BIN, type SpawnOptions } from './node-process.ts';
import { processCpuSeconds, stopProcess } from './procs.ts';
import { waitFor } from './wait-for.ts';
import { HarnessError } from './harness-error.ts';

/** Epoch ms with sub-ms resolution (comparable across processes). */
export const now = () => performance.timeOrigin + performance.now();

export interface LogLine {
  /** Arrival time at the parent, epoch ms. */
  at: number;
  line: Record<string, unknown>;
}

export class OutpostProcess {
  proc: ChildProcess | undefined;
  /** `<dataDir>/node.json` of the current process (pid, listen addresses, broker), once started. */
  info: RuntimeInfo | undefined;
  /** The current process's log lines. */
  logs: LogLine[] = [];
  spawnedAt = 0;
  /** How the current process ended, once it has. */
  exitInfo: string | undefined;
  /** Set once it was asked to stop (an exit is then expected, not a death). */
  stopping = false;
  /** Processes spawned so far (1 for the first run). */
  runs = 0;

  constructor(
    readonly name: string,
    readonly role: 'hub' | 'node',
    readonly dir: string,
    readonly configFile: string,
    readonly dataDir: string,
    readonly logFile: string,
    /** Flags and environment; `onSpawn` sees every process (a bench tracks CPU and teardown). */
    private readonly options: SpawnOptions & { onSpawn?: (p: OutpostProcess) => void } = {},
  ) {}

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number {
    return this.proc!.pid!;
  }

  /** The node's bound SIP UDP address (changes on a restart: the config says port 0). */
  get sip(): { host: string; port: number } {
    const udp = this.info?.listen.find((l) => l.startsWith('udp:'));
    if (!udp || !this.running) throw new HarnessError(`${this.name} is not running or has no UDP listener`);
    const [, host, port] = udp.split(':');
    return { host: host!, port: Number(port) };
  }

  /** The node's bound SIP address of `protocol` (tcp, tls), as `sip` for UDP. */
  sipOf(protocol: 'udp' | 'tcp' | 'tls'): { host: string; port: number } {
    const found = this.info?.listen.find((l) => l.startsWith(`${protocol}:`));
    if (!found || !this.running) throw new HarnessError(`${this.name} is not running or has no ${protocol} listener`);
    const [, host, port] = found.split(':');
    return { host: host!, port: Number(port) };
  }

  /** Spawns the process without waiting for it to start. */
  spawn(): ChildProcess {
    if (this.running) throw new HarnessError(`${this.name} runs already`);
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`----- start ${this.name} ${new Date().toISOString()}\n`);
    const [cmd, args] = nodeCommand(this.options, [OUTPOST_BIN, this.role, '--config', this.configFile]);
    const proc = spawn(cmd, args, {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.options.env ?? process.env,
    });
    this.proc = proc;
    this.info = undefined;
    this.logs = [];
    this.exitInfo = undefined;
    this.stopping = false;
    this.spawnedAt = now();
    this.runs++;
    const logs = this.logs;
    let stderr = '';
    onJsonLines(proc.stdout!, (line, at) => logs.push({ at, line }), (chunk) => log.write(chunk));
    proc.stderr!.on('data', (c: Buffer) => {
      log.write(c);
      stderr = (stderr + c.toString()).slice(-4000);
    });
    proc.once('exit', (code, signal) => {
      this.exitInfo = `exit code ${code}, signal ${signal}${stderr ? `: ${stderr.trim()}` : ''}`;
    });
    proc.once('close', () => log.end());
    this.options.onSpawn?.(this);
    return proc;
  }

  /** Spawns the process and polls until it wrote its runtime file (it is then fully started). */
  async start(timeoutMs = 20_000): Promise<void> {
    const proc = this.spawn();
    try {
      this.info = await waitFor(
        () => {
          if (this.exitInfo !== undefined) throw new HarnessError(`${this.name} exited while starting: ${this.exitInfo}`);
          const info = readJson<RuntimeInfo>(`${this.dataDir}/node.json`);
          return info?.pid === proc.pid ? info : undefined;
        },
        `${this.name} to start`,
        timeoutMs,
        20,
      );
    } catch (err) {
      throw new HarnessError(`${(err as Error).message}\n${this.name}.log:\n${this.tail(30)}`);
    }
  }

  cpuSeconds(): number {
    return this.proc?.pid ? processCpuSeconds(this.proc.pid) : 0;
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
    return waitFor(
      () => {
        if (this.exitInfo !== undefined) throw new HarnessError(`${this.name} exited before logging "${msg}": ${this.exitInfo}`);
        return this.findLog(msg, 0, where);
      },
      `${this.name} to log "${msg}"`,
      timeoutMs,
      5,
    );
  }

  /** Warnings and errors the current process logged so far (pino levels >= 40), by message. */
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

  /** The last `lines` lines of its log file (every run, stderr included). */
  tail(lines = 25): string {
    if (!existsSync(this.logFile)) return '(no log)';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  /**
   * SIGTERM (SIGKILL after `graceMs`), or SIGKILL at once; resolves with the exit code (null
   * when a signal ended it, or when it never ran).
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
    const proc = this.proc;
    if (!proc) return null;
    this.stopping = true;
    if (signal === 'SIGTERM') return stopProcess(proc, { graceMs });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    if (!this.running) return proc.exitCode;
    proc.kill('SIGKILL');
    return exited;
  }

  /** kill -9: no clean shutdown, no offline announcement, nothing flushed beyond what committed. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
