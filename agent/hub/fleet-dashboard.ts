/**
 * The hub's fleet view and dashboard as one part of the hub (hub.ts wires it with one call):
 * the telemetry feed (fleet-feed.ts, always on: the hub keeps the window of `telemetry`) and,
 * with `dashboard.listen`, the web dashboard (dashboard/dashboard-server.ts).
 */
import type { HubConfig } from '../config/hub-schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { PeerDirectory } from '../sync/peer-directory.ts';
import type { Credentials } from '../trust/credentials.ts';
import { DashboardServer } from './dashboard/dashboard-server.ts';
import { directoryFacts, FleetFeed } from './fleet-feed.ts';
import { FleetView } from './fleet-view.ts';

export interface FleetDashboardOptions {
  config: HubConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
}

export class FleetDashboard {
  readonly view: FleetView;
  private feed: FleetFeed | undefined;
  private server: DashboardServer | undefined;

  constructor(private readonly o: FleetDashboardOptions) {
    this.view = new FleetView(o.config.telemetry);
  }

  /** Starts once the hub's credentials, broker and replicator exist. */
  async start(parts: { credentials: Credentials; brokerUrl: string; directory: PeerDirectory }): Promise<void> {
    const { config, clock, logger } = this.o;
    const facts = directoryFacts(parts.directory);
    this.feed = new FleetFeed({ hubId: config.id, brokerUrl: parts.brokerUrl, tls: parts.credentials, view: this.view, facts: () => facts, clock, logger: logger.child({ mod: 'fleet' }) });
    this.feed.start();
    if (config.dashboard) {
      this.server = new DashboardServer({ config: config.dashboard, dataDir: config.dataDir, feed: this.feed, cdrs: this.o.store.cdrs, credentials: parts.credentials, clock, logger: logger.child({ mod: 'dashboard' }) });
      await this.server.start();
    }
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.feed?.stop();
  }

  /** The dashboard's address (`http(s)://host:port/`), once started; undefined without one. */
  get url(): string | undefined {
    return this.server?.url;
  }
}
