/**
 * Runs `outpost node` as a child process on 127.0.0.1 with OS-chosen ports and a temporary
 * data directory, and reads the bound addresses from its "node started" log line; runs the
 * outpost CLI. For the integration tests and the benches (register, calls); the replication
 * cluster is in cluster.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from './wait-for.ts';
import { HarnessError } from './harness-error.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OUTPOST_BIN = join(ROOT, 'bin/outpost.js');

export interface NodeProcess {
  proc: ChildProcess;
  dir: string;
  configFile: string;
  dataDir: string;
  udp: { host: string; port: number };
  tcp: { host: string; port: number };
  logs: Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `extraSip` is YAML placed inside the sip section (indented by the caller's content). */
export function writeNodeConfig(dir: string, extraSip = '', domain = 'branch-a.example'): string {
  const file = join(dir, 'outpost.yaml');
  writeFileSync(
    file,
    `node: { id: a1, site: branch-a }
dataDir: ./data
log: { level: info }
sip:
  domain: ${domain}
  listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]
${extraSip}`,
  );
  return file;
}

export interface SpawnOptions {
  /** Extra node flags before bin/outpost.js (e.g. --import of a preload). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** A command that runs node, e.g. `ip netns exec NS` (it must exec node: the pid stays node's). */
  prefix?: string[];
}

/** The program and arguments that run node with `args`, behind `options.prefix` if any. */
export function nodeCommand(options: SpawnOptions, args: string[]): [string, string[]] {
  const argv = [process.execPath, ...(options.execArgv ?? []), ...args];
  const prefix = options.prefix ?? [];
  return prefix.length ? [prefix[0]!, [...prefix.slice(1), ...argv]] : [argv[0]!, argv.slice(1)];
}

/**
 * Node flags for a bench's Outpost process: V8's sampling profiler into `cpuProfDir`
 * (cpu-profile-preload.mjs: a .cpuprofile written on exit) and GC tracing (gc-trace-preload.mjs:
 * one JSON line per GC on stdout).
 */
export function diagnostics(o: { cpuProfDir?: string | undefined; traceGc?: boolean }): Required<Omit<SpawnOptions, 'prefix'>> {
  const execArgv: string[] = [];
  const env = { ...process.env };
  const preload = (file: string) => execArgv.push('--import', pathToFileURL(join(import.meta.dirname, file)).href);
  if (o.traceGc) preload('gc-trace-preload.mjs');
  if (o.cpuProfDir) {
    preload('cpu-profile-preload.mjs');
    env['OUTPOST_BENCH_CPU_PROF_DIR'] = o.cpuProfDir;
  }
  return { execArgv, env };
}

/**
 * Calls `onLine` with each line of `stream` parsed as JSON (`{ raw }` when it is not) and the
 * time its chunk arrived; `onChunk` sees the raw chunks.
 */
export function onJsonLines(stream: Readable, onLine: (line: Record<string, unknown>, at: number) => void, onChunk?: (chunk: Buffer) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    const at = performance.timeOrigin + performance.now();
    onChunk?.(chunk);
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
      onLine(line, at);
    }
  });
}

export function tempDir(prefix = 'outpost-it-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startNode(configFile: string, dir: string, options: SpawnOptions = {}): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [...(options.execArgv ?? []), OUTPOST_BIN, 'node', '--config', configFile], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  onJsonLines(proc.stdout!, (line) => logs.push(line));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const started = await waitFor(
    () => {
      if (exitCode !== undefined) throw new HarnessError(`outpost node exited with ${exitCode}: ${stderr}`);
      return logs.find((l) => l['msg'] === 'node started');
    },
    'the node to start',
    20_000,
  );
  const listen = started['listen'] as string[];
  const endpoint = (proto: string) => {
    const a = listen.find((x) => x.startsWith(`${proto}:`))!.split(':');
    return { host: a[1]!, port: Number(a[2]) };
  };
  return {
    proc,
    dir,
    configFile,
    dataDir: join(dir, 'data'),
    udp: endpoint('udp'),
    tcp: endpoint('tcp'),
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/** Runs the outpost CLI to completion. */
export function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [OUTPOST_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
