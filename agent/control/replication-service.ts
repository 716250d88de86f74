/**
 * Everything replication needs in a running process, node or hub: the embedded broker when the
 * config asks for one, the replicator, the status file (`<dataDir>/sync-status.json`, each
 * second) and the Prometheus endpoint. Built and started by the composition roots (agent/main.ts,
 * agent/hub/hub.ts).
 */
import type { MetricsConfig, PeerConfig, SyncConfig } from '../config/sync-schema.ts';
import { EmbeddedBroker } from '../sync/embedded-broker.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { TableDigest } from '../store/table-digest.ts';
import { parseMqttUrl } from '../config/sync-schema.ts';
import { NodeKey } from '../sync/node-key.ts';
import { Replicator } from '../sync/replicator.ts';
import { syncStatus, writeSyncStatus } from '../sync/sync-status.ts';
import { MetricsServer } from './metrics-server.ts';
import { syncMetrics } from './sync-metrics.ts';

export interface ReplicationServiceOptions {
  role: 'node' | 'hub';
  nodeId: string;
  site: string;
  dataDir: string;
  store: Store;
  hub?: { url: string; id: string };
  peers?: PeerConfig[];
  /** Run an embedded broker here (`mqtt://host:port`, port 0: OS-chosen). */
  brokerListen?: string;
  /** Where peers reach the embedded broker (`mqtt.announce`), when not its bound address. */
  brokerAnnounce?: string;
  /** Use this external broker (hub only). */
  brokerUrl?: string;
  sync: SyncConfig;
  metrics?: MetricsConfig;
  logger: Logger;
  onApplied?: () => void;
}

const DIGEST_CACHE_MS = 2000;

export class ReplicationService {
  readonly key: NodeKey;
  broker: EmbeddedBroker | undefined;
  replicator: Replicator | undefined;
  metrics: MetricsServer | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private digests: { at: number; value: TableDigest[] } | undefined;

  constructor(private readonly options: ReplicationServiceOptions) {
    this.key = NodeKey.loadOrCreate(options.dataDir);
  }

  /** The broker this process runs or uses (hub: what nodes connect to). */
  get brokerUrl(): string | undefined {
    return this.broker?.url ?? this.options.brokerUrl;
  }

  /** The address announced to peers: `mqtt.announce`, else the bound broker address. */
  private announcedUrl(): string | undefined {
    return this.options.brokerAnnounce ?? this.brokerUrl;
  }

  async start(): Promise<void> {
    const o = this.options;
    if (o.brokerListen) {
      const addr = parseMqttUrl(o.brokerListen);
      if (typeof addr === 'string') throw new TypeError(addr);
      this.broker = new EmbeddedBroker({ host: addr.host, port: addr.port, logger: o.logger.child({ mod: 'broker' }) });
      await this.broker.start();
    }
    const replicator = new Replicator({
      role: o.role,
      nodeId: o.nodeId,
      site: o.site,
      store: o.store,
      key: this.key,
      ...(o.sync.siteAdminKey ? { siteAdminKey: NodeKey.load(o.sync.siteAdminKey, 'site admin key') } : {}),
      ...(o.hub ? { hub: o.hub } : {}),
      peers: o.peers ?? [],
      ...(this.announcedUrl() ? { ownBrokerUrl: this.announcedUrl()! } : {}),
      sync: o.sync,
      logger: o.logger.child({ mod: 'sync' }),
      ...(o.onApplied ? { onApplied: o.onApplied } : {}),
    });
    this.replicator = replicator;
    replicator.start();
    this.statusTimer = setInterval(() => this.writeStatus(), 1000);
    if (o.metrics) {
      const m = /^(.*):(\d+)$/.exec(o.metrics.listen)!;
      const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
      this.metrics = new MetricsServer({ host, port: Number(m[2]), collect: () => this.collect(), logger: o.logger.child({ mod: 'metrics' }) });
      await this.metrics.start();
    }
  }

  private writeStatus(): void {
    if (!this.replicator) return;
    try {
      writeSyncStatus(this.options.dataDir, syncStatus(this.replicator));
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'cannot write sync status');
    }
  }

  private collect() {
    const now = Date.now();
    if (!this.digests || now - this.digests.at > DIGEST_CACHE_MS) this.digests = { at: now, value: this.options.store.digests() };
    return syncMetrics(syncStatus(this.replicator!, now), this.digests.value);
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    this.writeStatus();
    await this.replicator?.stop();
    await this.metrics?.stop();
    await this.broker?.stop();
  }
}
