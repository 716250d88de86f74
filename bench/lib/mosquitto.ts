/**
 * Mosquitto as an external MQTT broker, for bench/sync.ts and the sync integration tests: a
 * generated config on 127.0.0.1 (anonymous, no persistence), its output appended to
 * `mosquitto.log` in its directory, started in the foreground and waited for (polled until it
 * accepts a TCP connection, with a deadline). Restartable on the same port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freeTcpPort, processCpuSeconds, stopProcess } from './procs.ts';
import { waitFor } from './wait-for.ts';
import { HarnessError } from './harness-error.ts';

/** Debian installs mosquitto in /usr/sbin, which a non-root PATH may lack. */
const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'];

export function findMosquitto(): { bin: string; version: string } | undefined {
  const bin = CANDIDATES.find((p) => existsSync(p));
  if (!bin) return undefined;
  // mosquitto -h prints its usage (with the version) and exits 3.
  const res = spawnSync(bin, ['-h'], { encoding: 'utf8' });
  return { bin, version: /mosquitto version (\S+)/.exec(`${res.stdout}${res.stderr}`)?.[1] ?? 'unknown' };
}

export interface MosquittoOptions {
  /** Directory of mosquitto.conf and mosquitto.log. */
  dir: string;
  /** Default: a free port from the OS. */
  port?: number;
  /** `set_tcp_nodelay true`: Nagle off on its client sockets. */
  nodelay?: boolean;
  /** max_queued_messages (Mosquitto's default 1000): QoS 1 messages kept per offline session. */
  maxQueued?: number;
  /** Also log information lines (client connects and disconnects). */
  verbose?: boolean;
  /** Sees every process started (a bench tracks its CPU, a test its teardown). */
  onSpawn?: (proc: ChildProcess) => void;
  /**
   * Mutual TLS: the directory `outpost broker mosquitto-config --out` writes (its listener
   * replaces the anonymous one; the files may be written after create(), before start()).
   */
  tlsDir?: string;
}

export function tcpAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  proc: ChildProcess | undefined;
  readonly configFile: string;
  readonly logFile: string;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly onSpawn: ((proc: ChildProcess) => void) | undefined,
    readonly secure = false,
  ) {
    this.configFile = join(dir, 'mosquitto.conf');
    this.logFile = join(dir, 'mosquitto.log');
  }

  /** Writes the config (nothing runs yet). */
  static async create(o: MosquittoOptions): Promise<Mosquitto> {
    const m = new Mosquitto(o.port ?? (await freeTcpPort()), o.dir, o.onSpawn, o.tlsDir !== undefined);
    writeFileSync(
      m.configFile,
      [
        ...(o.tlsDir ? [] : [`listener ${m.port} 127.0.0.1`, 'allow_anonymous true']),
        'persistence false',
        'log_dest stdout',
        'log_type error',
        'log_type warning',
        'log_type notice',
        ...(o.verbose ? ['log_type information'] : []),
        ...(o.nodelay ? ['set_tcp_nodelay true'] : []),
        ...(o.maxQueued !== undefined ? [`max_queued_messages ${o.maxQueued}`] : []),
        // As root Mosquitto drops to its own user after loading the config, and could then not
        // read the ACL file and key in the test's private temporary directory.
        ...(o.tlsDir ? ['user root', `include_dir ${o.tlsDir}`] : []),
        '',
      ].join('\n'),
    );
    return m;
  }

  get url(): string {
    return `${this.secure ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts mosquitto and polls until it accepts connections (or exits, or `timeoutMs` passes). */
  async start(timeoutMs = 10_000): Promise<ChildProcess> {
    const bin = CANDIDATES.find((p) => existsSync(p)) ?? 'mosquitto';
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`----- start mosquitto ${new Date().toISOString()}\n`);
    const proc = spawn(bin, ['-c', this.configFile], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.pipe(log, { end: false });
    proc.stderr!.pipe(log, { end: false });
    proc.once('error', (err) => log.write(`spawn error: ${err.message} (is mosquitto installed? bash setup.sh)\n`));
    proc.once('close', () => log.end());
    this.proc = proc;
    this.onSpawn?.(proc);
    try {
      await waitFor(
        async () => {
          if (!this.running) throw new HarnessError(`mosquitto exited with ${proc.exitCode ?? proc.signalCode}`);
          return tcpAccepts(this.port);
        },
        `mosquitto to listen on port ${this.port}`,
        timeoutMs,
        20,
      );
    } catch (err) {
      throw new HarnessError(`${(err as Error).message}\nmosquitto.log:\n${this.tail(20)}`);
    }
    return proc;
  }

  cpuSeconds(): number {
    return this.proc?.pid ? processCpuSeconds(this.proc.pid) : 0;
  }

  /** SIGTERM, then SIGKILL after 5 s; the exit code (null after a signal or when not running). */
  async stop(): Promise<number | null> {
    return this.proc ? stopProcess(this.proc, { graceMs: 5000 }) : null;
  }

  /** The last `lines` lines of its log. */
  tail(lines: number): string {
    if (!existsSync(this.logFile)) return '(no log)';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}
