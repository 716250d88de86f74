/**
 * A replication cluster of real processes for the sync integration tests: bench/lib/cluster.ts
 * (one hub and N nodes of one site under one temporary folder, the broker the hub's embedded
 * aedes or Mosquitto) with the nodes' SIP set up for the scenarios, and what the scenarios ask
 * of it: users added through the CLI, REGISTERs, the stores read directly, waits for
 * convergence. The hub's MQTT port is fixed for the run, so the hub or Mosquitto restarts on the
 * same address; nodes' own brokers (for their site peers) use port 0.
 *
 * Every child process is killed (SIGKILL) in destroy(), which the suites call from `after`,
 * and on exit (or SIGINT/SIGTERM/SIGHUP) of the test process, also when a test failed. The
 * temporary folder is removed when every test passed, else kept and named in the failure output
 * together with the tail of each log.
 *
 * The scenarios that use it are in sync-scenarios.ts. SYNC_TEST_TRACE=1 prints timings.
 */
import type { ChildProcess } from 'node:child_process';
import type { StatusReport } from '../../agent/cli/status-command.ts';
import { Store } from '../../agent/store/store.ts';
import type { TableDigest } from '../../agent/store/table-digest.ts';
import { Cluster, type Broker } from '../../bench/lib/cluster.ts';
import { runCli, tempDir } from '../../bench/lib/node-process.ts';
import type { OutpostProcess } from '../../bench/lib/outpost-process.ts';
import { Teardown } from '../../bench/lib/teardown.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { LOCALHOST } from './calls.ts';
import { registerUser, type RegisterResult } from '../../bench/lib/sip-register.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { sitePassword } from '../../bench/lib/site.ts';

export type BrokerKind = Broker;
export type Replica = OutpostProcess;

/** SYNC_TEST_TRACE=1: print the timing of each step (and of each convergence round). */
export const TRACE = process.env['SYNC_TEST_TRACE'] !== undefined;

/** Kills every child process on exit of the test process, also on a signal or a failed test. */
let teardown: Teardown | undefined;
const own = (proc: ChildProcess) => {
  teardown ??= new Teardown(() => {}).install([['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]);
  teardown.own(proc);
};

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
  /** YAML at the top level of every node's config, after the node's own broker. */
  nodeExtra?: string;
  /** YAML at the top level of the hub's config. */
  hubExtra?: string;
  /** false: plain MQTT, keys pinned on first use (insecure dev mode); default: mTLS and enrolment. */
  secure?: boolean;
  /** Where each process listens (default 127.0.0.1), and the command prefix that runs it (bench/lib/cluster.ts). */
  host?: (name: string) => string;
  prefix?: (name: string) => string[];
  /** The hub's broker port (default: a free one on this host). */
  hubPort?: number;
  /** Listeners besides UDP in every box's `sip.listen` (bench/lib/cluster.ts). */
  sipListen?: Array<'tcp' | 'tls'>;
}

export class SyncCluster extends Cluster {
  private contactSeq = 0;

  /** Writes the configs (nothing runs yet). */
  static async create(o: ClusterOptions): Promise<SyncCluster> {
    const [plan, port, mosquitto] = await Cluster.plan({
      dir: tempDir('outpost-sync-'),
      broker: o.broker,
      nodes: o.nodes ?? ['n1', 'n2', 'n3'],
      ...(o.site ? { site: o.site } : {}),
      domain: o.domain ?? 'sync.example',
      logLevel: o.logLevel ?? 'info',
      // maxContactsPerAor: the burst gives one user many contacts on one node; none may be evicted.
      nodeSip: `  auth: { algorithms: [MD5] }
  registrar: { maxContactsPerAor: 100 }
`,
      nodeExtra: (name) => `mqtt: { listen: "mqtt://${o.host?.(name) ?? LOCALHOST}:0" }\n${o.nodeExtra ?? ''}`,
      ...(o.hubExtra ? { hubExtra: o.hubExtra } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.hubPort !== undefined ? { hubPort: o.hubPort } : {}),
      ...(o.sipListen ? { sipListen: o.sipListen } : {}),
      mosquitto: { verbose: true, onSpawn: own },
      ...(o.secure !== undefined ? { secure: o.secure } : {}),
      spawn: (name) => ({ ...(o.prefix ? { prefix: o.prefix(name) } : {}), onSpawn: (p) => own(p.proc!) }),
    });
    return new SyncCluster(plan, port, mosquitto);
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
    if (res.code !== 0) throw new HarnessError(`user add ${ext} failed (${res.code}): ${res.stderr}`);
  }

  /** `outpost status --json` of a replica. */
  async status(r: Replica): Promise<StatusReport> {
    const res = await runCli(['status', '--json', '--config', r.configFile], this.dir);
    if (res.code !== 0) throw new HarnessError(`status of ${r.name} failed (${res.code}): ${res.stderr}`);
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
        cdrs: new Set(store.cdrs.since(0, Number.MAX_SAFE_INTEGER).map((c) => c.uuid)),
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
      throw new HarnessError(`${(err as Error).message}: ${missing}`);
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
      throw new HarnessError(`${(err as Error).message}:\n  ${missing.join('\n  ')}`);
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
    throw new HarnessError(`replicas did not converge within ${timeoutMs} ms:\n${describeDigests(last)}${missing.length ? `\n  ${missing.join('\n  ')}` : ''}`);
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

export const passwordOf = sitePassword;

/** Runs `fn` on a replica's store, opened from the test process (WAL: while the replica runs). */
export function withStoreOf<T>(r: Replica, fn: (store: Store) => T): T {
  const store = Store.open({ dataDir: r.dataDir, mustExist: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/**
 * A test body that, when it fails, prints the tails of every process's log and marks the
 * context failed (the suite then keeps the cluster's folder).
 */
export function explainedOn<C extends { cluster?: SyncCluster; failed: boolean }>(body: (ctx: C) => Promise<void>, lines?: number): (ctx: C) => Promise<void> {
  return async (ctx) => {
    try {
      await body(ctx);
    } catch (err) {
      ctx.failed = true;
      if (ctx.cluster) console.error(`\n${ctx.cluster.logTails(lines)}\n`);
      throw err;
    }
  };
}
