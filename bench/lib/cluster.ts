/**
 * A replication cluster of real processes on 127.0.0.1, for bench/sync.ts and the sync
 * integration tests (test/helpers/sync-cluster.ts): one hub (`outpost hub`) and N nodes
 * (`outpost node`) of one site, each with its own config and data directory under one
 * temporary folder and its log in `<name>.log` there. The broker is the hub's embedded aedes
 * (`mqtt.listen`) or Mosquitto (mosquitto.ts; the hub uses `mqtt.url`). The hub's MQTT port is
 * free from the OS and fixed for the run, so the hub or Mosquitto restarts on the same address;
 * with `hubPort: 0` (embedded only) the hub binds port 0 and the nodes' configs are written once
 * its runtime file names the port. `host` puts a process's listeners (the hub's broker, a
 * node's SIP) on another address than 127.0.0.1, and `spawn`'s `prefix` runs it elsewhere (the
 * partition drills: each in its own network namespace, netns.ts). By default the cluster is
 * secure (docs/security.md): MQTT over mutual TLS (`mqtts://`), every box enrolled for real with
 * a claim code at its first start (cluster-enrolment.ts); `secure: false` runs the insecure dev
 * mode (plain MQTT). Every wait polls with a deadline.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mosquitto, type MosquittoOptions } from './mosquitto.ts';
import type { SpawnOptions } from './node-process.ts';
import { OutpostProcess } from './outpost-process.ts';
import { freeTcpPort } from './procs.ts';
import { runCli } from './node-process.ts';
import { HarnessError } from './harness-error.ts';
import { enrolYaml, hubEnrolYaml, mintClaims, secureUrls } from './cluster-enrolment.ts';

export type Broker = 'embedded' | 'mosquitto';

export interface ClusterOptions {
  dir: string;
  broker: Broker;
  nodes: string[];
  site?: string;
  domain?: string;
  logLevel?: string;
  /** Default: a free port. 0: the OS chooses when the hub binds (embedded broker only). */
  hubPort?: number;
  /** YAML lines inside every node's sip section (indented by two spaces). */
  nodeSip?: string;
  /** Listeners besides UDP in every node's `sip.listen` (e.g. ['tls']), each on port 0. */
  sipListen?: Array<'tcp' | 'tls'>;
  /** YAML at the top level of every node's config (or of node `name`'s), and of the hub's. */
  nodeExtra?: string | ((name: string) => string);
  hubExtra?: string;
  mosquitto?: Omit<MosquittoOptions, 'dir' | 'port'>;
  /** The address a process's listeners bind (default 127.0.0.1), by process name ('hub' or a node id). */
  host?: (name: string) => string;
  /** mTLS and real enrolment (default); false: plain MQTT (insecure dev mode). */
  secure?: boolean;
  /** Node flags, environment and command prefix per process name, and a hook that sees every spawn. */
  spawn?: (name: string) => SpawnOptions & { onSpawn?: (p: OutpostProcess) => void };
}

/** mTLS and enrolment unless `secure: false` or OUTPOST_INSECURE_CLUSTER=1 (to compare costs). */
function secureOf(o: ClusterOptions): boolean {
  return o.secure ?? process.env['OUTPOST_INSECURE_CLUSTER'] !== '1';
}

export class Cluster {
  readonly dir: string;
  readonly broker: Broker;
  readonly domain: string;
  readonly site: string;
  readonly hub: OutpostProcess;
  readonly nodes: OutpostProcess[];
  readonly mosquitto: Mosquitto | undefined;
  /** The hub's broker URL (known once the hub started when the port is 0). */
  hubUrl: string | undefined;
  /** MQTT over mutual TLS, boxes enrolled with claim codes at their first start. */
  readonly secure: boolean;
  /** Milliseconds from the first box's start to the last one enrolled, per start() (secure only). */
  enrolMs: number[] = [];

  protected constructor(
    private readonly o: ClusterOptions,
    hubPort: number,
    mosquitto: Mosquitto | undefined,
  ) {
    this.dir = o.dir;
    this.broker = o.broker;
    this.domain = o.domain ?? 'sync.example';
    this.site = o.site ?? 'a';
    this.mosquitto = mosquitto;
    const logLevel = o.logLevel ?? 'info';
    this.secure = secureOf(o);
    const url = mosquitto?.url ?? `${this.secure ? 'mqtts' : 'mqtt'}://${this.host('hub')}:${hubPort}`;
    this.hubUrl = hubPort === 0 ? undefined : url;
    const make = (name: string, role: 'hub' | 'node') =>
      new OutpostProcess(name, role, o.dir, join(o.dir, `${name}.yaml`), join(o.dir, name), join(o.dir, `${name}.log`), o.spawn?.(name) ?? {});
    writeFileSync(
      join(o.dir, 'hub.yaml'),
      `dataDir: ./hub
log: { level: ${logLevel} }
mqtt: { ${mosquitto ? 'url' : 'listen'}: "${url}" }
sip: { domain: ${this.domain} }
${this.secure ? hubEnrolYaml(this.host('hub')) : ''}${o.hubExtra ?? ''}`,
    );
    this.hub = make('hub', 'hub');
    this.nodes = o.nodes.map((id) => make(id, 'node'));
    if (this.hubUrl && !this.secure) this.writeNodeConfigs(this.hubUrl);
  }

  /** Plans the cluster: ports, configs (nothing runs yet). */
  protected static async plan(o: ClusterOptions): Promise<[ClusterOptions, number, Mosquitto | undefined]> {
    if (o.broker === 'mosquitto') {
      const tls = secureOf(o) ? { tlsDir: join(o.dir, 'mosquitto-tls') } : {};
      const m = await Mosquitto.create({ ...o.mosquitto, ...tls, dir: o.dir, ...(o.hubPort ? { port: o.hubPort } : {}) });
      return [o, m.port, m];
    }
    return [o, o.hubPort ?? (await freeTcpPort()), undefined];
  }

  /** Writes the configs (nothing runs yet). */
  static async prepare(o: ClusterOptions): Promise<Cluster> {
    return new Cluster(...(await Cluster.plan(o)));
  }

  /** The address process `name` listens on. */
  host(name: string): string {
    return this.o.host?.(name) ?? '127.0.0.1';
  }

  private writeNodeConfigs(hubUrl: string, claims?: Map<string, { hub: string; claim: string }>): void {
    for (const n of this.nodes) {
      const nodeExtra = typeof this.o.nodeExtra === 'function' ? this.o.nodeExtra(n.name) : (this.o.nodeExtra ?? '');
      writeFileSync(
        n.configFile,
        `node: { id: ${n.name}, site: ${this.site} }
dataDir: ./${n.name}
log: { level: ${this.o.logLevel ?? 'info'} }
sip:
  domain: ${this.domain}
  listen: [${['udp', ...(this.o.sipListen ?? [])].map((p) => `"${p}:${this.host(n.name)}:0"`).join(', ')}]
${this.o.nodeSip ?? ''}hub: { url: "${hubUrl}" }
${this.secure ? secureUrls(nodeExtra) : nodeExtra}${enrolYaml(claims?.get(n.name))}`,
      );
    }
  }

  get replicas(): OutpostProcess[] {
    return [this.hub, ...this.nodes];
  }

  node(id: string): OutpostProcess {
    const n = this.nodes.find((x) => x.name === id);
    if (!n) throw new HarnessError(`no node ${id}`);
    return n;
  }

  /**
   * Starts the broker (Mosquitto, unless it runs), then the hub and every node together (nodes
   * retry the hub's broker); with the hub on port 0, the hub first.
   */
  async start(): Promise<void> {
    if (this.secure) {
      // The hub first (its CA and enrolment endpoint), claims for boxes without a certificate,
      // Mosquitto's TLS files and ACL (which name the claimed boxes), then the boxes.
      if (!this.hub.running) await this.hub.start();
      this.hubUrl = this.hub.info!.mqtt!;
      const pending = this.nodes.filter((n) => !n.running);
      const t0 = performance.now();
      const claims = await mintClaims(this.dir, this.hub, this.site, pending);
      if (this.mosquitto && !this.mosquitto.running) {
        const res = await runCli(['broker', 'mosquitto-config', '--out', join(this.dir, 'mosquitto-tls'), '--config', this.hub.configFile], this.dir);
        if (res.code !== 0) throw new HarnessError(`broker mosquitto-config failed (${res.code}): ${res.stderr}`);
        await this.mosquitto.start();
      }
      this.writeNodeConfigs(this.hubUrl, claims);
      await Promise.all(pending.map((n) => n.start()));
      this.enrolMs.push(performance.now() - t0);
      return;
    }
    if (this.mosquitto && !this.mosquitto.running) await this.mosquitto.start();
    if (this.hubUrl) {
      await Promise.all(this.replicas.map((r) => r.start()));
      return;
    }
    await this.hub.start();
    this.hubUrl = this.hub.info!.mqtt!;
    this.writeNodeConfigs(this.hubUrl);
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  /**
   * A box whose data directory was wiped (rebuilt) enrols again at its next start: a claim made
   * for its id (`enrol create --node`), written into its config. Secure clusters only.
   */
  async reenrol(n: OutpostProcess): Promise<void> {
    if (!this.secure || !this.hubUrl) throw new HarnessError('reenrol: only a started secure cluster enrols boxes');
    this.writeNodeConfigs(this.hubUrl, await mintClaims(this.dir, this.hub, this.site, [n]));
  }

  /** Stops the nodes (last first), the hub and the broker in turn; their exit codes by name. */
  async stop(): Promise<Record<string, number | null>> {
    const exits: Record<string, number | null> = {};
    for (const p of [...this.nodes].reverse()) exits[p.name] = await p.stop();
    exits['hub'] = await this.hub.stop();
    if (this.mosquitto) exits['mosquitto'] = await this.mosquitto.stop();
    return exits;
  }

  /** Kills every process (SIGKILL); removes the folder (configs, data, logs) with `removeDir`. */
  async destroy(removeDir = false): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.kill()));
    if (this.mosquitto?.proc) {
      this.mosquitto.proc.kill('SIGKILL');
      await this.mosquitto.stop();
    }
    if (removeDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines of every log, for a failure report. */
  logTails(lines = 25): string {
    const parts = this.replicas.map((r) => `=== ${r.name}.log\n${r.tail(lines)}`);
    if (this.mosquitto) parts.push(`=== mosquitto.log\n${this.mosquitto.tail(lines)}`);
    return `logs in ${this.dir}\n${parts.join('\n')}`;
  }
}
