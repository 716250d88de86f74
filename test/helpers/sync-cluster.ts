/**
 * A replication cluster of real processes for the sync integration tests: one hub
 * (`outpost hub`) and N nodes (`outpost node`) of one site, each with its own config and data
 * directory under one temporary folder, every process's stdout and stderr appended to
 * `<name>.log` there. The hub's MQTT port is fixed for the run (picked free from the OS first)
 * so the hub, or Mosquitto, can be restarted on the same address; nodes' own brokers (for their
 * site peers) use port 0. The broker is a parameter: 'embedded' (the hub's aedes, `mqtt.listen`)
 * or 'mosquitto' (started here with its own config; the hub uses `mqtt.url`).
 *
 * Every child process is killed (SIGKILL) in destroy(), which the suites call from `after`,
 * and on exit (or SIGINT/SIGTERM/SIGHUP) of the test process, also when a test failed. The
 * temporary folder is removed when every test passed, else kept and named in the failure output
 * together with the tail of each log.
 *
 * syncSuite(broker) holds the scenarios shared by test/integration/sync.test.ts and
 * sync-mosquitto.test.ts, run in order on one cluster: fan-out of acknowledged writes, a
 * partition from the hub (and its broker), with Mosquitto also a broker restart under a running
 * hub, a node killed with SIGKILL in the middle of a burst, site peers following that node to its
 * new broker port, and a compromised node that publishes rows it does not own. Acknowledged
 * REGISTERs (200 OK) are the unit of an acknowledged write. SYNC_TEST_TRACE=1 prints the timing
 * of every step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StatusReport } from '../../agent/cli/status-command.ts';
import type { RuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { Store } from '../../agent/store/store.ts';
import type { TableDigest } from '../../agent/store/table-digest.ts';
import { freeTcpPort, LOCALHOST } from './calls.ts';
import { OUTPOST_BIN, runCli, tempDir } from './node-process.ts';
import { registerUser, type RegisterResult } from './sip-register.ts';
import { waitFor } from './wait-for.ts';

export type BrokerKind = 'embedded' | 'mosquitto';

/** SYNC_TEST_TRACE=1: print the timing of each step (and of each convergence round). */
const TRACE = process.env['SYNC_TEST_TRACE'] !== undefined;

// ---- child processes: always cleaned up ------------------------------------------------------

const children = new Set<ChildProcess>();
let exitHooked = false;

function killAllChildren(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

function track(proc: ChildProcess): void {
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

const alive = (p: ChildProcess | undefined): boolean => p !== undefined && p.exitCode === null && p.signalCode === null;

function waitExit(proc: ChildProcess): Promise<number | null> {
  if (!alive(proc)) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

function tailOf(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Spawns with stdout and stderr appended to `logFile`. */
function spawnLogged(command: string, args: string[], cwd: string, logFile: string, label: string): ChildProcess {
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
    const proc = spawnLogged('mosquitto', ['-c', this.configFile], this.dir, this.logFile, 'start mosquitto');
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

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, LOCALHOST);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---- the cluster ------------------------------------------------------------------------------

/** A binding as `outpost status --json` lists it: the unit of an acknowledged write. */
export interface BindingKey {
  aor: string;
  contact: string;
  node: string;
}

const keyOf = (b: BindingKey) => `${b.aor} ${b.contact} ${b.node}`;

/** What one replica's store holds right now (read in the test process; cheap to poll). */
export interface Snapshot {
  tables: TableDigest[];
  bindings: Set<string>;
  users: Map<string, string>;
  cdrs: Set<string>;
}

export interface ClusterOptions {
  broker: BrokerKind;
  nodes?: string[];
  site?: string;
  domain?: string;
  logLevel?: 'debug' | 'info' | 'warn';
}

export class SyncCluster {
  readonly hub: Replica;
  readonly nodes: Replica[];
  readonly mosquitto: Mosquitto | undefined;
  private contactSeq = 0;

  private constructor(
    readonly dir: string,
    readonly broker: BrokerKind,
    readonly hubPort: number,
    readonly domain: string,
    readonly site: string,
    nodeIds: string[],
    logLevel: string,
  ) {
    const url = `mqtt://${LOCALHOST}:${hubPort}`;
    if (broker === 'mosquitto') this.mosquitto = new Mosquitto(hubPort, dir, join(dir, 'mosquitto.conf'), join(dir, 'mosquitto.log'));
    const hubConfig = join(dir, 'hub.yaml');
    writeFileSync(
      hubConfig,
      `dataDir: ./hub
log: { level: ${logLevel} }
mqtt: { ${broker === 'embedded' ? 'listen' : 'url'}: "${url}" }
sip: { domain: ${domain} }
`,
    );
    this.hub = new Replica('hub', 'hub', dir, hubConfig, join(dir, 'hub'), join(dir, 'hub.log'));
    this.nodes = nodeIds.map((id) => {
      const file = join(dir, `${id}.yaml`);
      // maxContactsPerAor: the burst gives one user many contacts on one node; none may be evicted.
      writeFileSync(
        file,
        `node: { id: ${id}, site: ${site} }
dataDir: ./${id}
log: { level: ${logLevel} }
sip:
  domain: ${domain}
  listen: ["udp:${LOCALHOST}:0"]
  auth: { algorithms: [MD5] }
  registrar: { maxContactsPerAor: 100 }
hub: { url: "${url}" }
mqtt: { listen: "mqtt://${LOCALHOST}:0" }
`,
      );
      return new Replica(id, 'node', dir, file, join(dir, id), join(dir, `${id}.log`));
    });
  }

  /** Writes the configs (nothing runs yet). */
  static async create(o: ClusterOptions): Promise<SyncCluster> {
    const port = await freeTcpPort();
    return new SyncCluster(tempDir('outpost-sync-'), o.broker, port, o.domain ?? 'sync.example', o.site ?? 'a', o.nodes ?? ['n1', 'n2', 'n3'], o.logLevel ?? 'info');
  }

  get replicas(): Replica[] {
    return [this.hub, ...this.nodes];
  }

  node(id: string): Replica {
    const n = this.nodes.find((x) => x.name === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Starts the broker (mosquitto), then the hub and every node together (nodes retry the hub's broker). */
  async start(): Promise<void> {
    await this.mosquitto?.start();
    await Promise.all(this.replicas.map((r) => r.start()));
  }

  /**
   * Kills every process of the cluster (SIGKILL). The temporary folder (configs, data, logs) is
   * removed with `removeDir`, else kept for a post-mortem.
   */
  async destroy(removeDir = false): Promise<void> {
    for (const r of this.replicas) if (r.running) r.proc!.kill('SIGKILL');
    if (this.mosquitto?.running) this.mosquitto.proc!.kill('SIGKILL');
    await Promise.all([...this.replicas.map((r) => r.proc && waitExit(r.proc)), this.mosquitto?.proc && waitExit(this.mosquitto.proc)]);
    if (removeDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** `outpost user add` for each user against the hub's config, two CLI processes at a time. */
  async addUsers(users: Array<{ ext: string; site?: string }>): Promise<void> {
    const queue = [...users];
    await Promise.all([0, 1].map(async () => {
      for (let u = queue.shift(); u; u = queue.shift()) await this.addUser(u.ext, passwordOf(u.ext), u.site);
    }));
  }

  /** `outpost user add` against the hub's config (admin-owned rows are written on the hub). */
  async addUser(ext: string, password: string, site?: string): Promise<void> {
    const res = await runCli(['user', 'add', ext, '--password', password, ...(site ? ['--site', site] : []), '--config', this.hub.configFile], this.dir);
    if (res.code !== 0) throw new Error(`user add ${ext} failed (${res.code}): ${res.stderr}`);
  }

  /** `outpost status --json` of a replica. */
  async status(r: Replica): Promise<StatusReport> {
    const res = await runCli(['status', '--json', '--config', r.configFile], this.dir);
    if (res.code !== 0) throw new Error(`status of ${r.name} failed (${res.code}): ${res.stderr}`);
    return JSON.parse(res.stdout) as StatusReport;
  }

  /** Table digests as `outpost status --json` reports them. */
  async digests(r: Replica): Promise<TableDigest[]> {
    return (await this.status(r)).tables;
  }

  /** The replica's store read directly (the same way the CLI does; WAL allows it while running). */
  snapshot(r: Replica): Snapshot {
    const store = Store.open({ dataDir: r.dataDir, mustExist: true });
    try {
      const now = Date.now();
      return {
        tables: store.digests(),
        bindings: new Set(store.registrations.allLive(now).map((b) => keyOf({ aor: b.aor, contact: b.contact, node: b.nodeId }))),
        users: new Map(store.users.list().map((u) => [u.ext, u.displayName])),
        cdrs: new Set(store.db.prepare('SELECT uuid FROM cdrs').pluck().all() as string[]),
      };
    } finally {
      store.close();
    }
  }

  /** The replica's change-log head (its cr-sqlite db_version), read from its store. */
  head(r: Replica): bigint {
    const store = Store.open({ dataDir: r.dataDir, mustExist: true });
    try {
      return store.changes.head();
    } finally {
      store.close();
    }
  }

  /** REGISTERs `user` at `node` with a new unique contact. */
  async register(node: Replica, user: string, tag: string, timeoutMs = 5000): Promise<{ result: RegisterResult; binding: BindingKey }> {
    const contact = `sip:${user}-${tag}-${++this.contactSeq}@${LOCALHOST}:5999`;
    const result = await registerUser({ target: node.sip, domain: this.domain, user, password: passwordOf(user), contact, timeoutMs });
    return { result, binding: { aor: user, contact, node: node.name } };
  }

  /** Waits until every given replica has these users. */
  async waitForUsers(replicas: Replica[], exts: string[], timeoutMs: number): Promise<void> {
    let missing = '';
    try {
      await waitFor(
        () => {
          missing = replicas
            .map((r) => ({ r, users: this.snapshot(r).users }))
            .filter(({ users }) => exts.some((e) => !users.has(e)))
            .map(({ r, users }) => `${r.name} has [${[...users.keys()].join(' ')}]`)
            .join('; ');
          return missing === '';
        },
        'users on every replica',
        timeoutMs,
        200,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${missing}`);
    }
  }

  /** Waits until every given replica holds every binding among its live registrations (read from its store). */
  async waitForBindings(replicas: Replica[], bindings: BindingKey[], timeoutMs: number): Promise<void> {
    let missing: string[] = [];
    try {
      await waitFor(
        () => {
          missing = missingBindings(replicas.map((r) => ({ name: r.name, have: this.snapshot(r).bindings })), bindings);
          return missing.length === 0;
        },
        `${bindings.length} acknowledged bindings on ${replicas.map((r) => r.name).join(', ')}`,
        timeoutMs,
        100,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}:\n  ${missing.join('\n  ')}`);
    }
  }

  /**
   * Polls the stores until every table's digest is equal on all `replicas` (and each holds
   * `bindings`), then confirms with one round of `outpost status --json` of each: the same
   * digests, every binding listed. Returns the status reports of that round.
   */
  async waitForConvergence(replicas: Replica[], timeoutMs: number, bindings: BindingKey[] = []): Promise<StatusReport[]> {
    const deadline = Date.now() + timeoutMs;
    let last: Array<{ name: string; tables: TableDigest[] }> = [];
    let missing: string[] = [];
    for (;;) {
      const snaps = replicas.map((r) => ({ name: r.name, ...this.snapshot(r) }));
      last = snaps;
      missing = missingBindings(snaps.map((x) => ({ name: x.name, have: x.bindings })), bindings);
      if (missing.length === 0 && sameDigests(snaps.map((x) => x.tables))) {
        if (TRACE) console.log(`    stores agree after ${Date.now() - deadline + timeoutMs} ms`);
        const reports = await Promise.all(replicas.map((r) => this.status(r)));
        last = reports.map((st, i) => ({ name: replicas[i]!.name, tables: st.tables }));
        missing = missingBindings(reports.map((st, i) => ({ name: `status of ${replicas[i]!.name}`, have: new Set(st.registrations.map(keyOf)) })), bindings);
        if (TRACE) console.log(`    status round done after ${Date.now() - deadline + timeoutMs} ms`);
        if (missing.length === 0 && sameDigests(reports.map((st) => st.tables))) return reports;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`replicas did not converge within ${timeoutMs} ms:\n${describeDigests(last)}${missing.length ? `\n  ${missing.join('\n  ')}` : ''}`);
  }

  /** The last lines of every log, for a failed test's report. */
  logTails(lines = 25): string {
    const parts = this.replicas.map((r) => `=== ${r.name}.log\n${r.tail(lines)}`);
    if (this.mosquitto) parts.push(`=== mosquitto.log\n${tailOf(this.mosquitto.logFile, lines)}`);
    return `logs in ${this.dir}\n${parts.join('\n')}`;
  }
}

function missingBindings(replicas: Array<{ name: string; have: Set<string> }>, bindings: BindingKey[]): string[] {
  const out: string[] = [];
  for (const { name, have } of replicas) {
    const lacking = bindings.filter((b) => !have.has(keyOf(b)));
    if (lacking.length > 0) out.push(`${name} lacks ${lacking.length}: ${lacking.slice(0, 4).map(keyOf).join(', ')}${lacking.length > 4 ? ' ...' : ''}`);
  }
  return out;
}

function sameDigests(all: TableDigest[][]): boolean {
  const first = all[0];
  if (!first) return true;
  return all.every((t) => t.length === first.length && t.every((d, i) => d.table === first[i]!.table && d.digest === first[i]!.digest));
}

function describeDigests(all: Array<{ name: string; tables: TableDigest[] }>): string {
  const tables = all[0]?.tables.map((t) => t.table) ?? [];
  return tables
    .map((t) => {
      const cells = all.map(({ name, tables: ts }) => {
        const d = ts.find((x) => x.table === t);
        return `${name}=${d ? `${d.rows}:${d.digest.slice(0, 8)}` : '-'}`;
      });
      const same = new Set(all.map(({ tables: ts }) => ts.find((x) => x.table === t)?.digest)).size === 1;
      return `  ${same ? ' ' : '!'} ${t.padEnd(14)} ${cells.join('  ')}`;
    })
    .join('\n');
}

export const passwordOf = (ext: string) => `pw-${ext}-secret`;

// ---- the scenarios ------------------------------------------------------------------------------

interface Ctx {
  cluster: SyncCluster;
  /** Every binding a node acknowledged with 200 OK so far, in any scenario. */
  acked: BindingKey[];
  /** A test failed: keep the cluster's folder for a post-mortem. */
  failed: boolean;
}

const USERS = ['2001', '2002', '2003', '2004', '2005', '2006'];
/** How long replication may take to bring every replica to the same state after an event. */
const CONVERGE_MS = 20_000;

let traceStart = Date.now();

/** Runs one step of a scenario; with SYNC_TEST_TRACE set, prints when it started and how long it took. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    if (TRACE) console.log(`  [${((t0 - traceStart) / 1000).toFixed(1)} s, ${Date.now() - t0} ms] ${what}`);
  }
}

/** Registers and expects 200 OK; records the binding as acknowledged. */
async function registerAcked(ctx: Ctx, node: Replica, user: string, tag: string): Promise<BindingKey> {
  const { result, binding } = await ctx.cluster.register(node, user, tag);
  assert.ok(result.ok, `REGISTER of ${user} at ${node.name} (${tag}): ${result.status ?? 'no answer'} ${result.reason}`);
  ctx.acked.push(binding);
  return binding;
}

/** A test body that prints the tails of every process's log when it fails. */
function explained(body: (ctx: Ctx) => Promise<void>): (ctx: Ctx) => Promise<void> {
  return async (ctx) => {
    try {
      await body(ctx);
    } catch (err) {
      ctx.failed = true;
      if (ctx.cluster) console.error(`\n${ctx.cluster.logTails()}\n`);
      throw err;
    }
  };
}

/** Registers the replication scenarios against a fresh cluster with `broker` and runs them. */
export function syncSuite(broker: BrokerKind): void {
  const test = suite<Ctx>(`replication, ${broker === 'embedded' ? 'embedded broker (aedes)' : 'mosquitto broker'}`);

  test.before(async (ctx) => {
    traceStart = Date.now();
    ctx.acked = [];
    ctx.failed = false;
    ctx.cluster = await SyncCluster.create({ broker });
    try {
      await step('start the cluster', () => ctx.cluster.start());
    } catch (err) {
      ctx.failed = true;
      console.error(`\n${ctx.cluster.logTails()}\n`);
      throw err;
    }
  });

  test.after(async (ctx) => {
    await ctx.cluster?.destroy(!ctx.failed);
  });

  test('users added on the hub reach every node; each acknowledged REGISTER reaches every replica', explained(async (ctx) => {
    const c = ctx.cluster;
    // Half of them for site a only (the hub's site stream), half for every site (the global stream).
    await step('user add x6 on the hub', () => c.addUsers(USERS.map((ext, i) => (i < 3 ? { ext, site: c.site } : { ext }))));
    await step('users reach the nodes', () => c.waitForUsers(c.nodes, USERS, CONVERGE_MS));
    await step('2 REGISTERs per node', () => Promise.all(c.nodes.map(async (n, i) => {
      for (const u of USERS.slice(2 * i, 2 * i + 2)) await registerAcked(ctx, n, u, 's1');
    })));
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test(`partition: with the hub${broker === 'mosquitto' ? ' and mosquitto' : ''} down nodes keep acknowledging; after the restart every replica converges`, explained(async (ctx) => {
    const c = ctx.cluster;
    await step('stop the hub', async () => assert.is(await c.hub.stop('SIGTERM'), 0, 'hub exits 0 on SIGTERM'));
    if (c.mosquitto) await step('stop mosquitto', () => c.mosquitto!.stop());
    const before = ctx.acked.length;
    await step('2 REGISTERs per node, hub down', () => Promise.all(c.nodes.map(async (n, i) => {
      for (const k of [2, 3]) await registerAcked(ctx, n, USERS[(2 * i + k) % USERS.length]!, 's2');
    })));
    assert.is(ctx.acked.length - before, 2 * c.nodes.length);
    // Site peers replicate over their own brokers while the hub is away.
    await step('site peers exchange them without the hub', () => c.waitForBindings(c.nodes, ctx.acked, CONVERGE_MS));
    if (c.mosquitto) await step('start mosquitto', () => c.mosquitto!.start());
    await step('start the hub', () => c.hub.start());
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  if (broker === 'mosquitto') {
    test('mosquitto restart under a running hub (no broker persistence) loses nothing acknowledged', explained(async (ctx) => {
      const c = ctx.cluster;
      await step('stop mosquitto', () => c.mosquitto!.stop());
      await step('1 REGISTER per node, broker down', () => Promise.all(c.nodes.map((n, i) => registerAcked(ctx, n, USERS[(2 * i + 4) % USERS.length]!, 's2b'))));
      await step('start mosquitto', () => c.mosquitto!.start());
      await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
    }));
  }

  test('crash: kill -9 of a node in the middle of a REGISTER burst loses no acknowledged binding', explained(async (ctx) => {
    const c = ctx.cluster;
    const n2 = c.node('n2');
    const TOTAL = 60;
    const IN_FLIGHT = 6;
    const KILL_AFTER = 25;
    const target = n2.sip;
    let next = 0;
    let killing: Promise<void> | undefined;
    let dead = false;
    const acked: BindingKey[] = [];
    let unanswered = 0;
    // Workers keep sending until n2 is gone, so some REGISTERs are in flight when it dies.
    const worker = async () => {
      while (!dead && next < TOTAL) {
        const i = next++;
        const user = USERS[i % USERS.length]!;
        const contact = `sip:${user}-s3-${i}@${LOCALHOST}:5999`;
        const res = await registerUser({ target, domain: c.domain, user, password: passwordOf(user), contact, timeoutMs: 3000 });
        if (res.ok) acked.push({ aor: user, contact, node: n2.name });
        else if (res.status !== undefined) throw new Error(`REGISTER ${i} at n2 got ${res.status} ${res.reason}`);
        else unanswered++;
        if (!killing && acked.length >= KILL_AFTER) killing = n2.kill().then(() => void (dead = true));
      }
    };
    await step(`burst of up to ${TOTAL} REGISTERs, ${IN_FLIGHT} in flight, kill -9 after ${KILL_AFTER} acknowledged`, () => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
    await killing;
    assert.ok(killing, 'n2 was killed');
    assert.ok(next < TOTAL, `the kill cut the burst (acknowledged ${acked.length}, unanswered ${unanswered}, sent ${next} of ${TOTAL})`);
    if (TRACE) console.log(`    acknowledged ${acked.length}, unanswered ${unanswered}, sent ${next} of ${TOTAL}`);
    ctx.acked.push(...acked);
    await step('restart n2', () => n2.start());
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test('site peers follow a restarted node to its new broker port: with the hub down, its new writes still reach them', explained(async (ctx) => {
    // n2 was restarted by the crash scenario; its own broker (mqtt.listen port 0) has a new port,
    // which it announced while the hub was up. Now cut the hub off and write at n2.
    const c = ctx.cluster;
    const n2 = c.node('n2');
    const peers = c.nodes.filter((n) => n !== n2);
    await step('stop the hub', async () => assert.is(await c.hub.stop('SIGTERM'), 0, 'hub exits 0 on SIGTERM'));
    if (c.mosquitto) await step('stop mosquitto', () => c.mosquitto!.stop());
    try {
      const b = await step('REGISTER at n2, hub down', () => registerAcked(ctx, n2, USERS[1]!, 's3b'));
      try {
        await step('n1 and n3 get it over their site link to n2', () => c.waitForBindings(peers, [b], 10_000));
      } catch (err) {
        const links = await Promise.all(peers.map(async (p) => `${p.name}: ${JSON.stringify((await c.status(p)).sync?.links.filter((l) => l.name === `peer:${n2.name}`))}`));
        throw new Error(`${(err as Error).message}\n  n2's broker is now ${n2.info?.mqtt}; links to it: ${links.join('; ')}`);
      }
    } finally {
      if (c.mosquitto && !c.mosquitto.running) await step('start mosquitto', () => c.mosquitto!.start());
      if (!c.hub.running) await step('start the hub', () => c.hub.start());
    }
    await step('bindings everywhere, digests converge', () => c.waitForConvergence(c.replicas, CONVERGE_MS, ctx.acked));
  }));

  test('compromised node: rows it does not own are refused by every receiver; its own writes still arrive', explained(async (ctx) => {
    const c = ctx.cluster;
    const n3 = c.node('n3');
    const receivers = c.replicas.filter((r) => r !== n3);
    await step('stop n3', async () => assert.is(await n3.stop('SIGTERM'), 0, 'n3 exits 0 on SIGTERM'));
    const now = Date.now();
    const forgedContact = 'sip:forged@203.0.113.9:5060';
    const forgedName = 'forged by n3';
    const forgedCdr = 'forged-cdr-by-n3';
    const victim = USERS[0]!;
    // Written with n3's own store (its site id), so n3 signs and publishes them with its valid key.
    const store = Store.open({ dataDir: n3.dataDir, mustExist: true });
    try {
      store.db
        .prepare(`INSERT INTO registrations (aor, contact, node_id, expires_at, call_id, cseq, user_agent, received, updated_at)
          VALUES (?, ?, 'n1', ?, 'forged-call', 1, 'forged', 'udp:203.0.113.9:5060', ?)`)
        .run(victim, forgedContact, now + 3_600_000, now);
      assert.is(store.db.prepare('UPDATE users SET display_name = ?, updated_at = ? WHERE ext = ?').run(forgedName, now, victim).changes, 1);
      store.db
        .prepare(`INSERT INTO cdrs (uuid, node_id, caller, callee, started_at, answered_at, ended_at, duration_ms, disposition, sip_status)
          VALUES (?, 'n1', ?, ?, ?, ?, ?, 60000, 'answered', 200)`)
        .run(forgedCdr, USERS[1]!, USERS[2]!, now - 60_000, now - 59_000, now);
    } finally {
      store.close();
    }
    await step('start n3', () => n3.start());
    // A legitimate write by n3 after the forged ones: it must still arrive everywhere.
    await step('REGISTER at n3', () => registerAcked(ctx, n3, USERS[4]!, 's4'));
    await step('the new binding reaches hub, n1, n2', () => c.waitForBindings(receivers, ctx.acked, CONVERGE_MS));
    // Every receiver pulls n3's own stream up to n3's head (past the forged changes, which
    // precede the REGISTER) and counts the forged changes as refused.
    const n3Head = c.head(n3);
    const reports = await step('every receiver pulls n3 past the forgery and reports it refused', () => Promise.all(receivers.map((r) =>
      waitFor(async () => {
        const st = await c.status(r);
        const counters = st.sync?.counters;
        const own = st.sync?.peers.find((p) => p.nodeId === n3.name)?.streams.find((s) => s.stream === 'own');
        return own && BigInt(own.watermark) >= n3Head && counters && counters.changesRejected > 0 && (counters.rejectedBy['n3'] ?? 0) > 0 ? st : undefined;
      }, `${r.name} to pull n3's stream to ${n3Head} and report changes of n3 refused (status --json sync)`, CONVERGE_MS, 300),
    )));
    for (const [i, r] of receivers.entries()) {
      const snap = c.snapshot(r);
      assert.not.ok([...snap.bindings].some((b) => b.includes(forgedContact)), `${r.name} took the forged registration`);
      assert.not.ok(reports[i]!.registrations.some((b) => b.contact === forgedContact), `status of ${r.name} lists the forged registration`);
      assert.is.not(snap.users.get(victim), forgedName, `${r.name} took the forged display name`);
      assert.not.ok(snap.cdrs.has(forgedCdr), `${r.name} took the forged CDR`);
    }
    // The forgery is really in n3's store (the test wrote what it meant to).
    const own = c.snapshot(n3);
    assert.ok([...own.bindings].some((b) => b.includes(forgedContact)) && own.users.get(victim) === forgedName && own.cdrs.has(forgedCdr), 'n3 holds the forged rows');
    await step('hub, n1, n2 converge', () => c.waitForConvergence(receivers, CONVERGE_MS, ctx.acked));
  }));

  test.run();
}
