/**
 * The shell around the fleet view (fleet-view.ts): its own MQTT connection to the hub's broker
 * (as the hub, with the hub's certificate over mqtts), subscribed to every box's telemetry, a
 * timer that prunes the window and re-judges the boxes every few seconds, and the node states
 * the replicator's directory holds. Tells listeners which boxes changed: after a sample, after
 * a state change, and when time alone moved a box to another state.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { BrokerLink } from '../sync/broker-link.ts';
import { linkTlsOptions } from '../sync/link-tls.ts';
import type { Credentials } from '../trust/credentials.ts';
import type { PeerChange } from '../sync/cdr-takeover.ts';
import { telemetryTopics } from '../wire/telemetry.ts';
import type { BoxState, FleetView, NodeFact } from './fleet-view.ts';

/** Where node states come from: the replicator's directory (agent/sync/peer-directory.ts). */
export interface NodeFacts {
  all(): NodeFact[];
  get(nodeId: string): NodeFact | undefined;
  onChange(listener: (change: PeerChange) => void): () => void;
}

export interface FleetFeedOptions {
  hubId: string;
  brokerUrl: string;
  /** The hub's credentials (mqtts://). */
  tls: Credentials | undefined;
  view: FleetView;
  facts: () => NodeFacts | undefined;
  clock: Clock;
  logger: Logger;
  /** How often the boxes are re-judged and the window pruned (ms). */
  tickMs?: number;
}

export class FleetFeed {
  private link: BrokerLink | undefined;
  private timer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly listeners = new Set<(nodes: string[]) => void>();
  private readonly judged = new Map<string, BoxState>();

  constructor(private readonly o: FleetFeedOptions) {}

  get view(): FleetView {
    return this.o.view;
  }

  /** Node states (role node only), as the view takes them. */
  facts(): NodeFact[] {
    return this.o.facts()?.all() ?? [];
  }

  fact(nodeId: string): NodeFact | undefined {
    return this.o.facts()?.get(nodeId);
  }

  /** Calls `listener` with the ids of boxes whose row may have changed. */
  onUpdate(listener: (nodes: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    const o = this.o;
    const secure = o.brokerUrl.startsWith('mqtts:');
    this.link = new BrokerLink({
      name: 'fleet',
      url: o.brokerUrl,
      clientId: `${o.hubId}-fleet`,
      subscriptions: [telemetryTopics.all],
      ...(secure && o.tls ? { tls: linkTlsOptions(o.tls, { nodeId: o.hubId, role: 'hub' }) } : {}),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      logger: o.logger,
    });
    this.link.start();
    this.unsubscribe = o.facts()?.onChange((c) => this.emit([c.peer]));
    this.schedule();
  }

  async stop(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.listeners.clear();
    await this.link?.stop();
    this.link = undefined;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const result = this.o.view.ingest(topic, payload, this.o.clock.now());
    if (result.kind === 'accepted') this.emit([result.node]);
    else this.o.logger.debug({ topic, reason: result.reason }, 'telemetry dropped');
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.tick();
      this.schedule();
    }, this.o.tickMs ?? 2000);
  }

  /** Prunes the window and reports the boxes whose state changed with time alone. */
  tick(): void {
    const now = this.o.clock.now();
    this.o.view.prune(now);
    const changed: string[] = [];
    for (const site of this.o.view.overview(this.facts(), now).sites) {
      for (const b of site.boxes) {
        if (this.judged.get(b.nodeId) !== b.state) changed.push(b.nodeId);
        this.judged.set(b.nodeId, b.state);
      }
    }
    if (changed.length) this.emit(changed);
  }

  private emit(nodes: string[]): void {
    for (const l of this.listeners) l(nodes);
  }
}

/** The boxes (not hubs) of the replicator's directory, as node facts. */
export function directoryFacts(directory: {
  all(): Array<NodeFact & { role: string }>;
  get(nodeId: string): (NodeFact & { role: string }) | undefined;
  onChange(listener: (change: PeerChange) => void): () => void;
}): NodeFacts {
  const fact = (n: NodeFact & { role: string }): NodeFact => ({ nodeId: n.nodeId, site: n.site, online: n.online, seenAt: n.seenAt });
  return {
    all: () => directory.all().filter((n) => n.role === 'node').map(fact),
    get: (id) => {
      const n = directory.get(id);
      return n && n.role === 'node' ? fact(n) : undefined;
    },
    onChange: (l) => directory.onChange((c) => (c.role === 'hub' ? undefined : l(c))),
  };
}
