/**
 * Replication as the hub does it (docs/mqtt/sync.md, "Subscriptions of each link"): one link to
 * its own broker, on which it takes every box's own stream and state, answers catch-ups, and
 * republishes what it merged per scope stream; it records each box it hears of in `nodes`.
 */
import type { NodeState } from '../wire/messages.ts';
import { topics } from '../wire/topics.ts';
import type { BatchSource, BatchSourceOptions } from './batch-source.ts';
import type { LinkPlan } from './replication-commands.ts';
import type { LinkView, ReplicationStrategy, StateReaction, StreamRef } from './replication-strategy.ts';
import type { KnownNode, PeerDirectory } from './peer-directory.ts';
import { ScopeBatchSource } from './scope-batch-source.ts';

export interface HubStrategyOptions {
  nodeId: string;
  /** The hub's broker (embedded or external). */
  brokerUrl: string;
}

export class HubStrategy implements ReplicationStrategy {
  readonly role = 'hub';
  readonly hubId = undefined;
  readonly announcedBroker = undefined;
  readonly pushLinks = ['self'] as const;
  readonly relays = true;

  constructor(private readonly o: HubStrategyOptions) {}

  createSource(options: BatchSourceOptions): BatchSource {
    return new ScopeBatchSource(options);
  }

  initial(): { links: LinkPlan[]; streams: StreamRef[] } {
    const id = this.o.nodeId;
    const subscriptions = [topics.allNodeChanges, topics.allNodeStates, topics.syncRequest(id), topics.syncResponse(id)];
    return { links: [{ name: 'self', url: this.o.brokerUrl, subscriptions }], streams: [] };
  }

  /** Every box's own stream (a box is followed from its first batch or state). */
  accepts(_source: string, stream: string): boolean {
    return stream === 'own';
  }

  /** Every box's own stream, and its row in `nodes`; other hubs are none of its business. */
  onState(state: NodeState): StateReaction | undefined {
    return state.role === 'node' ? { follow: ['own'], record: true } : undefined;
  }

  linkFor(): string {
    return 'self';
  }

  isConnectedTo(nodeId: string, links: LinkView, directory: PeerDirectory): boolean {
    return links.isConnected('self') && directory.get(nodeId)?.online === true;
  }

  reportsOn(node: KnownNode): boolean {
    return node.role === 'node';
  }
}
