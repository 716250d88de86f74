/**
 * The hub role's composition root (`outpost hub`): a replica of every store plus the broker the
 * fleet connects to, embedded (aedes, `mqtt.listen`) or external (`mqtt.url`, e.g. Mosquitto).
 * Admin commands run against the hub's config write into this replica; replication carries
 * them to the boxes in their scope. At its first start it makes its certificate authority and
 * its own certificate (agent/trust/); with `enrol.listen` it serves the enrolment endpoint boxes
 * join with a claim code. Parts start in order and stop in reverse; "hub stopped" is
 * the last line the hub logs.
 */
import { join } from 'node:path';
import type { HubConfig } from '../config/hub-schema.ts';
import { boxMetrics } from '../control/box-metrics.ts';
import { metricsServerAt, type MetricsServer } from '../control/metrics-server.ts';
import { SyncStatusFile } from '../control/sync-status-file.ts';
import { createSystemClock, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { embeddedBrokerAt, type EmbeddedBroker } from '../sync/embedded-broker.ts';
import { NodeKey } from '../sync/node-key.ts';
import { CdrTakeoverService } from '../sync/cdr-takeover-service.ts';
import { Replicator } from '../sync/replicator.ts';
import { syncStatus } from '../sync/sync-status.ts';
import { parseHostPort, validityMs } from '../config/trust-schema.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { ClaimBook } from '../trust/claim-book.ts';
import { EnrolServer } from '../trust/enrol-server.ts';
import { EnrolmentService } from '../trust/enrolment-service.ts';
import { RenewalService } from '../trust/renewal-service.ts';
import { ensureHubCredentials } from '../trust/hub-credentials.ts';
import { FleetDashboard } from './fleet-dashboard.ts';
import { startHubAdmin } from '../admin/hub-admin.ts';
import type { AdminService } from '../admin/admin-service.ts';
import { hubTrust, type HubTrust } from './hub-trust.ts';
import { BUNDLE_DIR, bundleRoute } from '../update/bundle-route.ts';
import { HubRollout } from '../update/hub-rollout.ts';

export interface Hub {
  readonly config: HubConfig;
  readonly store: Store;
  /** The embedded broker (`mqtt.listen`); undefined with an external one (`mqtt.url`). */
  readonly broker: EmbeddedBroker | undefined;
  /** The Prometheus endpoint (`metrics.listen`). */
  readonly metrics: MetricsServer | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The broker nodes join (`hub.url` in their config). */
  brokerUrl(): string;
  /** The enrolment endpoint (`enrol.listen`), `https://host:port`, once started; undefined without one. */
  enrolUrl(): string | undefined;
  /** The fleet dashboard (`dashboard.listen`), `http(s)://host:port/`, once started; undefined without one. */
  dashboardUrl(): string | undefined;
}

export function buildHub(config: HubConfig, logger: Logger, clock: Clock = createSystemClock()): Hub {
  const store = Store.open({ dataDir: config.dataDir });
  const key = NodeKey.loadOrCreate(config.dataDir);
  // Built in start(), once the hub's certificate exists (mqtts: mutual TLS and the ACL).
  let broker: EmbeddedBroker | undefined;
  const brokerUrl = () => ('url' in config.mqtt ? config.mqtt.url : broker!.url);
  // Built in start(): it joins the broker's bound address (port 0: known once it listens).
  let replicator: Replicator | undefined;
  const status = () => (replicator ? { ...syncStatus(replicator, clock.now()), ...(broker?.guard ? { broker: { ...broker.guard.stats } } : {}) } : undefined);
  // Closes the calls of a dead box when no box of its site did (twice the grace period).
  const takeover = new CdrTakeoverService({ store, self: config.id, site: undefined, graceSeconds: config.sync.takeoverGrace, clock, logger: logger.child({ mod: 'takeover' }) });
  const statusFile = new SyncStatusFile({ dataDir: config.dataDir, status, clock, logger });
  const metrics = config.metrics
    ? metricsServerAt(config.metrics.listen, boxMetrics({ store, clock, sync: status }), logger.child({ mod: 'metrics' }))
    : undefined;
  let enrolServer: EnrolServer | undefined;
  // Staged updates (docs/updates.md): the permits that let one box of a site install at a time.
  const rollout = new HubRollout({ store, clock, logger: logger.child({ mod: 'update' }), bundles: { hubDataDir: config.dataDir, keep: config.updates.keepBundles } });
  const fleet = new FleetDashboard({ config, store, clock, logger });
  // The admin API (agent/admin/, docs/mqtt/admin.md): signed requests over the hub's broker.
  let admin: AdminService | undefined;
  // Its certificate renewed by its CA, live; with Mosquitto, its ACL and CRL kept current.
  let trust: HubTrust | undefined;
  return {
    config,
    store,
    get broker() {
      return broker;
    },
    metrics,
    async start() {
      const ca = await CertificateAuthority.loadOrCreate({ dataDir: config.dataDir, hubId: config.id, caDays: config.ca.days, clock });
      const credentials = await ensureHubCredentials(ca, {
        dataDir: config.dataDir, hubId: config.id, nodeKey: key.publicKey, serverNames: config.ca.serverNames, days: config.ca.certificateDays,
        validityMs: config.ca.certificateValidity !== undefined ? validityMs(config.ca.certificateValidity) : undefined,
      });
      trust = hubTrust(config, ca, store, credentials, clock, logger);
      const live = trust.live;
      if (config.enrol) {
        const log = logger.child({ mod: 'enrol' });
        const validity = config.ca.certificateValidity !== undefined ? validityMs(config.ca.certificateValidity) : config.ca.certificateDays * 86_400_000;
        const service = new EnrolmentService({ ca, claims: new ClaimBook(config.dataDir), hubId: config.id, certificateDays: config.ca.certificateDays, validityMs: validity, clock, logger: log, brokerUrl });
        const renewal = new RenewalService({ ca, revoked: (serial) => store.revocations.get(serial), validityMs: validity, clock, logger: log });
        enrolServer = new EnrolServer({
          ...parseHostPort(config.enrol.listen), credentials, live, service, renewal, routes: [bundleRoute({ dir: join(config.dataDir, BUNDLE_DIR), revoked: (serial) => store.revocations.get(serial), logger: logger.child({ mod: 'update' }) })], maxFailures: config.enrol.maxFailures, failureWindowMs: config.enrol.failureWindow * 1000, clock, logger: log,
        });
        await enrolServer.start();
      }
      if ('listen' in config.mqtt) {
        broker = embeddedBrokerAt(config.mqtt.listen, logger.child({ mod: 'broker' }), () => ({ credentials, live, owner: { nodeId: config.id, site: '', role: 'hub' }, revoked: (serial: string) => store.revocations.get(serial) }));
        await broker.start();
      }
      replicator = new Replicator({
        tls: credentials,
        role: 'hub',
        nodeId: config.id,
        site: '',
        store,
        key,
        ownBrokerUrl: brokerUrl(),
        sync: config.sync,
        logger: logger.child({ mod: 'sync' }),
      });
      replicator.start();
      admin = startHubAdmin(config, { store, credentials, brokerUrl: brokerUrl(), directory: replicator.directory, clock, logger });
      live.onChange((c) => void replicator?.useCredentials(c));
      trust.start();
      takeover.start(replicator.directory);
      rollout.start();
      await fleet.start({ credentials, brokerUrl: brokerUrl(), directory: replicator.directory });
      statusFile.start();
      await metrics?.start();
      // `hub started` is logged by the caller once it has recorded the hub (agent/cli/hub-command.ts).
    },
    async stop() {
      await metrics?.stop();
      await fleet.stop();
      trust?.stop();
      statusFile.stop();
      takeover.stop();
      rollout.stop();
      await admin?.stop();
      await replicator?.stop();
      await broker?.stop();
      await enrolServer?.stop();
      store.close();
      logger.info({ hub: config.id }, 'hub stopped');
    },
    brokerUrl,
    enrolUrl: () => enrolServer?.url,
    dashboardUrl: () => fleet.url,
  };
}
