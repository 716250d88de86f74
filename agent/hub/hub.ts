/**
 * The hub role's composition root (`outpost hub`): a replica of every store plus the broker the
 * fleet connects to, embedded (aedes, `mqtt.listen`) or external (`mqtt.url`, e.g. Mosquitto).
 * Admin commands run against the hub's config write into this replica; replication carries
 * them to the boxes in their scope.
 */
import type { HubConfig } from '../config/hub-schema.ts';
import { ReplicationService } from '../control/replication-service.ts';
import type { Logger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';

export interface Hub {
  readonly config: HubConfig;
  readonly store: Store;
  readonly replication: ReplicationService;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The broker nodes join (`hub.url` in their config). */
  brokerUrl(): string;
}

export function buildHub(config: HubConfig, logger: Logger): Hub {
  const store = Store.open({ dataDir: config.dataDir });
  const replication = new ReplicationService({
    role: 'hub',
    nodeId: config.id,
    site: '',
    dataDir: config.dataDir,
    store,
    ...('listen' in config.mqtt ? { brokerListen: config.mqtt.listen } : { brokerUrl: config.mqtt.url }),
    sync: config.sync,
    ...(config.metrics ? { metrics: config.metrics } : {}),
    logger,
  });
  return {
    config,
    store,
    replication,
    async start() {
      await replication.start();
      logger.info({ hub: config.id, broker: replication.brokerUrl, metrics: replication.metrics?.port }, 'hub started');
    },
    async stop() {
      await replication.stop();
      store.close();
      logger.info({ hub: config.id }, 'hub stopped');
    },
    brokerUrl() {
      return replication.brokerUrl!;
    },
  };
}
