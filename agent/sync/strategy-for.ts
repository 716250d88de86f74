/**
 * The replication strategy of a role: the one place that looks at `role` (the replicator and
 * the simulated network of the convergence test both build their cores through it).
 */
import type { PeerConfig } from '../config/sync-schema.ts';
import { SyncError } from './errors.ts';
import { HubStrategy } from './hub-strategy.ts';
import { NodeStrategy } from './node-strategy.ts';
import type { ReplicationStrategy } from './replication-strategy.ts';

export interface RoleOptions {
  role: 'node' | 'hub';
  nodeId: string;
  site: string;
  /** Node: the hub it joins. */
  hub?: { url: string; id: string };
  /** Node: static site peers. */
  peers?: PeerConfig[];
  /** Node: its own broker, for its peers; hub: the hub's broker. */
  ownBrokerUrl?: string;
}

export function strategyFor(o: RoleOptions): ReplicationStrategy {
  if (o.role === 'node') return new NodeStrategy(o);
  if (!o.ownBrokerUrl) throw new SyncError('sync.connect', 'the hub needs the url of its broker');
  return new HubStrategy({ nodeId: o.nodeId, brokerUrl: o.ownBrokerUrl });
}
