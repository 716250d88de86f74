/**
 * What differs between a node and the hub in replication, as one interface the core consults
 * instead of branching on a role: which links to open and what they subscribe to, which
 * streams to follow, what another replica's state asks of this one, over which link to ask a
 * source for a catch-up, where pushes go and whether merged changes are republished.
 * Implemented by NodeStrategy (node-strategy.ts) and HubStrategy (hub-strategy.ts).
 */
import type { NodeState } from '../wire/messages.ts';
import { topics, type StreamName } from '../wire/topics.ts';
import type { BatchSource, BatchSourceOptions } from './batch-source.ts';
import type { LinkPlan } from './replication-commands.ts';
import type { KnownNode, PeerDirectory } from './peer-directory.ts';

/** Which links are up, as the core last heard from its shell. */
export interface LinkView {
  isConnected(link: string): boolean;
}

export interface StreamRef {
  source: string;
  stream: StreamName;
}

/** What a state of another replica asks of this one. */
export interface StateReaction {
  /** Streams of the announcing replica to follow from now on. */
  follow: StreamName[];
  /** A link to its own broker (opened, or moved when its address changed). */
  peerLink?: LinkPlan;
  /** Hub: write the node's row in `nodes`. */
  record: boolean;
}

/** Who may send this replica what (BatchReceiver asks before it looks further into a batch). */
export interface StreamPolicy {
  /** Node: its hub's id (the one trusted relay and admin). */
  readonly hubId: string | undefined;
  /** Does this replica take `stream` of `source`? `followed`: it tracks that stream already. */
  accepts(source: string, stream: string, followed: boolean): boolean;
}

export interface ReplicationStrategy extends StreamPolicy {
  readonly role: 'node' | 'hub';
  /** The broker announced in this replica's state, for site peers (`mqtt` of NodeState). */
  readonly announcedBroker: string | undefined;
  /** The links this replica pushes on, in order. */
  readonly pushLinks: readonly string[];
  /** Republishes what it merged (the hub), or only its own changes (a node). */
  readonly relays: boolean;
  /** What it publishes and serves: a node its own stream, the hub every scope stream. */
  createSource(options: BatchSourceOptions): BatchSource;
  /** Links to open and streams to follow from the start. */
  initial(): { links: LinkPlan[]; streams: StreamRef[] };
  /** undefined: the state is not for this replica (beyond pinning its key). */
  onState(state: NodeState): StateReaction | undefined;
  /** The link to ask `source` for a catch-up on (it may be down or absent). */
  linkFor(source: string, links: LinkView): string;
  /** Is `nodeId` reachable now (for status)? */
  isConnectedTo(nodeId: string, links: LinkView, directory: PeerDirectory): boolean;
  /** Is `node` one of the peers status reports on? */
  reportsOn(node: KnownNode): boolean;
}

/** The link to a site peer's own broker: its pushes and states, and replies to this replica. */
export function peerLinkPlan(selfId: string, peerId: string, url: string): LinkPlan {
  return { name: `peer:${peerId}`, url, subscriptions: [topics.nodeChanges(peerId), topics.nodeState(peerId), topics.syncResponse(selfId)] };
}
