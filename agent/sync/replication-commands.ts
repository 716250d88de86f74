/**
 * What the replication core asks its shell to do (replication-core.ts decides, replicator.ts
 * or a test's simulated network executes): open and close broker links, publish, send a push
 * page under backpressure, record a node, report a merge, and arm or cancel its two timers.
 */
import type { OutgoingBatch } from './batch-source.ts';

/** A broker link to open: what it is for, where, and what it subscribes to. */
export interface LinkPlan {
  /** `hub`, `self` or `peer:{id}`: names the link in commands, logs and status. */
  name: string;
  url: string;
  subscriptions: string[];
}

export interface LinkSpec extends LinkPlan {
  clientId: string;
  /** The offline state, published by the broker if the connection dies. */
  will: { topic: string; payload: Buffer };
}

/** `tick`: every 50 ms (new head, state, anti-entropy); `push`: after `sync.pushDelay`. */
export type TimerName = 'tick' | 'push';

export interface NodeRecordInput {
  id: string;
  site: string;
  role: string;
  siteId: string;
  publicKey: string;
}

export type Command =
  | { kind: 'connect'; link: LinkSpec }
  /** Close a link at once (a peer that moved to another address). */
  | { kind: 'disconnect'; link: string }
  /** QoS 1, fire and forget (a lost publish is healed by catch-up). */
  | { kind: 'publish'; link: string; topic: string; payload: Buffer | string; retain: boolean }
  /**
   * One page of pushes: every batch on every link in turn, each waiting for room under
   * `sync.maxInFlight`, the rest skipped on a link that drops. Then the shell reports
   * `pushPageSent(published, more)`, and the core reads the next page when `more`.
   */
  | { kind: 'push-page'; links: string[]; batches: OutgoingBatch[]; more: boolean }
  /** Hub: write the node's row in `nodes` (through the store's write queue). */
  | { kind: 'record-node'; node: NodeRecordInput; at: number }
  /** A state of a peer this replica reports on (liveness: agent/switch/peers/). */
  | { kind: 'peer-state'; nodeId: string; online: boolean; sip: string | undefined }
  /** The link to a peer's own broker dropped: perhaps the peer died (liveness checks). */
  | { kind: 'peer-link-lost'; nodeId: string }
  /** A merge changed the store (caches of users and bans). */
  | { kind: 'applied' }
  | { kind: 'schedule'; timer: TimerName; ms: number }
  | { kind: 'cancel'; timer: TimerName };
