/**
 * Replication as a box does it (docs/mqtt/sync.md, "Subscriptions of each link"): a link to the
 * hub's broker for the hub's `global` and site streams and every state, a link to its own
 * broker (if it runs one) for requests of its site peers, and a link to each site peer's
 * broker, listed in the config or announced in the peer's state.
 */
import type { PeerConfig } from '../config/sync-schema.ts';
import type { NodeState } from '../wire/messages.ts';
import { siteStream, topics } from '../wire/topics.ts';
import { BatchSource, type BatchSourceOptions } from './batch-source.ts';
import type { LinkPlan } from './replication-commands.ts';
import { peerLinkPlan, type LinkView, type ReplicationStrategy, type StateReaction, type StreamRef } from './replication-strategy.ts';
import type { KnownNode, PeerDirectory } from './peer-directory.ts';

export interface NodeStrategyOptions {
  nodeId: string;
  site: string;
  hub?: { url: string; id: string };
  peers?: PeerConfig[];
  /** The box's own broker, announced to its site peers. */
  ownBrokerUrl?: string;
}

export class NodeStrategy implements ReplicationStrategy {
  readonly role = 'node';
  readonly hubId: string | undefined;
  readonly announcedBroker: string | undefined;
  readonly pushLinks = ['hub', 'self'] as const;
  readonly relays = false;

  constructor(private readonly o: NodeStrategyOptions) {
    this.hubId = o.hub?.id;
    this.announcedBroker = o.ownBrokerUrl;
  }

  createSource(options: BatchSourceOptions): BatchSource {
    return new BatchSource(options);
  }

  initial(): { links: LinkPlan[]; streams: StreamRef[] } {
    const o = this.o;
    const links: LinkPlan[] = [];
    const streams: StreamRef[] = [];
    if (o.hub) {
      streams.push({ source: o.hub.id, stream: 'global' }, { source: o.hub.id, stream: siteStream(o.site) });
      links.push({
        name: 'hub',
        url: o.hub.url,
        subscriptions: [topics.hubChanges('global'), topics.hubChanges(siteStream(o.site)), topics.allNodeStates, topics.syncRequest(o.nodeId), topics.syncResponse(o.nodeId)],
      });
    }
    if (o.ownBrokerUrl) links.push({ name: 'self', url: o.ownBrokerUrl, subscriptions: [topics.syncRequest(o.nodeId)] });
    for (const p of o.peers ?? []) {
      if (p.id === o.nodeId) continue;
      streams.push({ source: p.id, stream: 'own' });
      links.push(peerLinkPlan(o.nodeId, p.id, p.url));
    }
    return { links, streams };
  }

  /** The hub's global and site streams; a peer's own stream once it is followed. */
  accepts(source: string, stream: string, followed: boolean): boolean {
    if (source === this.o.hub?.id) return stream === 'global' || stream === siteStream(this.o.site);
    return stream === 'own' && followed;
  }

  onState(state: NodeState): StateReaction {
    const o = this.o;
    if (state.role !== 'node' || state.site !== o.site) return { follow: [], record: false };
    // A statically listed peer keeps its configured address; others follow their announcement.
    // A peer without a broker of its own reaches this box only through the hub's relay.
    const listed = o.peers?.some((p) => p.id === state.nodeId) === true;
    if (!state.mqtt || listed) return { follow: [], record: false };
    return { follow: ['own'], peerLink: peerLinkPlan(o.nodeId, state.nodeId, state.mqtt), record: false };
  }

  /** A peer's own broker first, else the hub's. */
  linkFor(source: string, links: LinkView): string {
    const peer = `peer:${source}`;
    return links.isConnected(peer) ? peer : 'hub';
  }

  isConnectedTo(nodeId: string, links: LinkView, directory: PeerDirectory): boolean {
    if (nodeId === this.o.hub?.id) return links.isConnected('hub');
    if (links.isConnected(`peer:${nodeId}`)) return true;
    return links.isConnected('hub') && directory.get(nodeId)?.online === true;
  }

  reportsOn(node: KnownNode): boolean {
    return node.role === 'node' && node.site === this.o.site;
  }
}
