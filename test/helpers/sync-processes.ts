/**
 * Child processes of the sync integration tests: a replica (`outpost hub` or `outpost node`)
 * and Mosquitto, each logging to a file, all killed when the test process ends (also on
 * SIGINT/SIGTERM/SIGHUP or a failed test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { RuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { LOCALHOST } from './calls.ts';
import { OUTPOST_BIN } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const children = new Set<ChildProcess>();
let exitHooked = false;

export function killAllChildren(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export function track(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAllChildren);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(code);
    });
  }
}

export const alive = (p: ChildProcess | undefined): boolean => p !== undefined && p.exitCode === null && p.signalCode === null;

export function waitExit(proc: ChildProcess): Promise<number | null> {
  if (!alive(proc)) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

export function tailOf(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Spawns with stdout and stderr appended to `logFile`. */
export function spawnLogged(command: string, args: string[], cwd: string, logFile: string, label: string): ChildProcess {
  appendFileSync(logFile, `----- ${label} ${new Date().toISOString()}\n`);
  const fd = openSync(logFile, 'a');
  try {
    const proc = spawn(command, args, { cwd, stdio: ['ignore', fd, fd] });
    track(proc);
    return proc;
  } finally {
    closeSync(fd);
  }
}

// ---- replicas ---------------------------------------------------------------------------------

/** A hub or node process with its config, data directory and log file; restartable. */
export class Replica {
  proc: ChildProcess | undefined;
  /** `<dataDir>/node.json` of the current process (pid, listen addresses, broker). */
  info: RuntimeInfo | undefined;

  constructor(
    readonly name: string,
    readonly role: 'hub' | 'node',
    readonly dir: string,
    readonly configFile: string,
    readonly dataDir: string,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return alive(this.proc);
  }

  /** The node's bound SIP UDP address (changes on a restart: the config says port 0). */
  get sip(): { host: string; port: number } {
    const udp = this.info?.listen.find((l) => l.startsWith('udp:'));
    if (!udp || !this.running) throw new Error(`${this.name} is not running or has no UDP listener`);
    const [, host, port] = udp.split(':');
    return { host: host!, port: Number(port) };
  }

  /** Starts the process and waits until it wrote its runtime file (it is then fully started). */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} runs already`);
    const proc = spawnLogged(process.execPath, [OUTPOST_BIN, this.role, '--config', this.configFile], this.dir, this.logFile, `start ${this.name}`);
    this.proc = proc;
    this.info = undefined;
    try {
      this.info = await waitFor(
        () => {
          if (!alive(proc)) throw new Error(`${this.name} exited with ${proc.exitCode ?? proc.signalCode} while starting`);
          const info = readJson<RuntimeInfo>(join(this.dataDir, 'node.json'));
          return info?.pid === proc.pid ? info : undefined;
        },
        `${this.name} to start`,
        timeoutMs,
        50,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.name}.log:\n${tailOf(this.logFile, 30)}`);
    }
  }

  /** Stops with `signal` and resolves with the exit code (null when a signal ended it). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    const proc = this.proc;
    if (!proc || !alive(proc)) return proc?.exitCode ?? null;
    const exited = waitExit(proc);
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}\n${tailOf(this.logFile, 30)}`);
    }
    return code;
  }

  /** kill -9: no clean shutdown, no offline announcement, nothing flushed beyond what committed. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  tail(lines = 25): string {
    return tailOf(this.logFile, lines);
  }
}

/** `mosquitto -c FILE` on a fixed port: no persistence, anonymous, logs to its log file. */
export class Mosquitto {
  proc: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly configFile: string,
    readonly logFile: string,
  ) {
    writeFileSync(configFile, `listener ${port} ${LOCALHOST}\nallow_anonymous true\npersistence false\nlog_dest stdout\n`);
  }

  get url(): string {
    return `mqtt://${LOCALHOST}:${this.port}`;
  }

  get running(): boolean {
    return alive(this.proc);
  }

  async start(timeoutMs = 10_000): Promise<void> {
    const proc = spawnLogged(mosquittoBinary(), ['-c', this.configFile], this.dir, this.logFile, 'start mosquitto');
    proc.once('error', (err) => appendFileSync(this.logFile, `spawn error: ${err.message} (is mosquitto installed? bash setup.sh)\n`));
    this.proc = proc;
    try {
      await waitFor(
        async () => {
          if (!alive(proc)) throw new Error(`mosquitto exited with ${proc.exitCode ?? proc.signalCode}`);
          return tcpAccepts(this.port);
        },
        'mosquitto to listen',
        timeoutMs,
        50,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nmosquitto.log:\n${tailOf(this.logFile, 20)}`);
    }
  }

  async stop(): Promise<number | null> {
    const proc = this.proc;
    if (!proc || !alive(proc)) return proc?.exitCode ?? null;
    const exited = waitExit(proc);
    proc.kill('SIGTERM');
    return exited;
  }
}

export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, LOCALHOST);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}


/** Debian installs mosquitto in /usr/sbin, which a non-root PATH may lack. */
function mosquittoBinary(): string {
  return ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
}
