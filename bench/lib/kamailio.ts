/**
 * Runs Kamailio as the reference registrar for the benchmarks: renders
 * bench/kamailio/registrar.cfg.tmpl, writes the users (extension -> MD5 HA1) as a db_text table
 * that the htable module preloads, and runs `kamailio -DD -E` in the foreground in its own
 * process group on 127.0.0.1 with a free port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureOutput, freeUdpPort, groupCpuSeconds, stopProcess } from './procs.ts';
import { waitForSip } from './sip-probe.ts';
import { HarnessError } from './harness-error.ts';

export const KAMAILIO_TEMPLATE = fileURLToPath(new URL('../kamailio/registrar.cfg.tmpl', import.meta.url));
const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules'];

export interface KamailioInfo {
  binary: string;
  version: string;
  moduleDir: string;
}

/** The installed kamailio, or undefined when there is none (or it has no module directory). */
export function findKamailio(): KamailioInfo | undefined {
  for (const binary of ['kamailio', '/usr/sbin/kamailio', '/usr/local/sbin/kamailio']) {
    const res = spawnSync(binary, ['-v'], { encoding: 'utf8' });
    if (res.error || res.status !== 0) continue;
    const version = /version:\s*kamailio\s+(\S+)/.exec(res.stdout)?.[1] ?? 'unknown';
    const moduleDir = MODULE_DIRS.find((d) => existsSync(join(d, 'registrar.so')));
    if (!moduleDir) return undefined;
    return { binary, version, moduleDir };
  }
  return undefined;
}

export interface KamailioOptions {
  info: KamailioInfo;
  /** Working directory for the config, the users table and the runtime files. */
  dir: string;
  realm: string;
  /** [extension, MD5 HA1] pairs. */
  users: Array<[string, string]>;
  /** UDP receiver processes (kamailio `children`). */
  children: number;
  /** Shared memory in MB (location table, transactions, htable). */
  shmMb?: number;
  /** Memory manager (kamailio -x): qm (the default, with debugging aids), fm or tlsf. */
  memManager?: 'qm' | 'fm' | 'tlsf';
}

export interface KamailioProcess {
  proc: ChildProcess;
  udp: { host: string; port: number };
  configFile: string;
  /** CPU seconds used so far by every kamailio process (main, receivers, timers). */
  cpuSeconds(): number;
  /** The last ~100 kB kamailio wrote to stdout/stderr (its log goes to stderr with -E; all of it is in <dir>/kamailio.log). */
  output(): string;
  stop(): Promise<number | null>;
}

/** db_text escapes ':' '\\' and whitespace control characters; HA1s and extensions need none of it. */
function dbTextField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

export function renderKamailioConfig(values: Record<string, string>): string {
  const text = readFileSync(KAMAILIO_TEMPLATE, 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (all, name: string) => {
    const v = values[name];
    if (v === undefined) throw new HarnessError(`kamailio template: no value for ${all}`);
    return v;
  });
}

export async function startKamailio(options: KamailioOptions): Promise<KamailioProcess> {
  const dbDir = join(options.dir, 'db');
  const runDir = join(options.dir, 'run');
  mkdirSync(dbDir, { recursive: true });
  mkdirSync(runDir, { recursive: true });
  // htable's db columns: key_name, key_type (0 = plain key), value_type (0 = string), key_value.
  writeFileSync(
    join(dbDir, 'users'),
    'key_name(str) key_type(int) value_type(int) key_value(str) expires(int)\n' +
      options.users.map(([ext, ha1]) => `${dbTextField(ext)}:0:0:${dbTextField(ha1)}:0\n`).join(''),
  );
  const port = await freeUdpPort();
  const configFile = join(options.dir, 'kamailio.cfg');
  writeFileSync(
    configFile,
    renderKamailioConfig({
      CHILDREN: String(options.children),
      PORT: String(port),
      MODULE_DIR: options.info.moduleDir,
      DB_DIR: dbDir,
      SECRET: randomBytes(24).toString('hex'),
    }),
  );

  const check = spawnSync(options.info.binary, ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new HarnessError(`kamailio rejected ${configFile}:\n${check.stderr}${check.stdout}`);

  const args = ['-f', configFile, '-DD', '-E', '-Y', runDir, '-P', join(runDir, 'kamailio.pid'), '-w', options.dir, '-m', String(options.shmMb ?? 4096), '-M', '16'];
  if (options.memManager) args.push('-x', options.memManager);
  // Own process group: stopping it reaches the forked workers too.
  const proc = spawn(options.info.binary, args, { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = captureOutput(proc, join(options.dir, 'kamailio.log'));
  let exitCode: number | null | undefined;
  proc.once('exit', (code) => (exitCode = code));
  const udp = { host: '127.0.0.1', port };
  const handle: KamailioProcess = {
    proc,
    udp,
    configFile,
    cpuSeconds: () => groupCpuSeconds(proc.pid!),
    output,
    stop: () => stopProcess(proc, { group: true, graceMs: 10_000 }),
  };
  try {
    await waitForSip(udp, options.realm, 15_000, () => (exitCode !== undefined ? `kamailio exited with ${exitCode}:\n${output().slice(-3000)}` : undefined));
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
