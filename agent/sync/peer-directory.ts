/**
 * What this replica knows about other nodes: their announced state (online, head version,
 * broker address) and their public keys, pinned at first sight (trust on first use) in the
 * store's local_sync_keys, so a restart keeps them. A later announcement with another key for
 * the same node id is refused and logged, unless the hub recorded a replacement (key-pinning.ts).
 * The hub's `nodes` table fills in nodes this replica has never heard from directly. It reports
 * each node's online/offline changes to listeners (`onChange`): the MQTT signal of liveness,
 * which the hub's CDR takeover follows.
 */
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { NodeState } from '../wire/messages.ts';
import type { PeerChange, PeerChangeFeed } from './cdr-takeover.ts';
import { checkCertifiedState } from './certified-state.ts';
import { decidePin, keyFingerprint, type PinDecision } from './key-pinning.ts';
import { nodeRevoked, REVOKED_MESSAGE, revocationReason } from '../trust/revocation.ts';

export interface KnownNode {
  nodeId: string;
  role: 'node' | 'hub';
  site: string;
  /** cr-sqlite site id, hex. */
  siteId: string;
  publicKey: string;
  online: boolean;
  /** The node's db_version as last announced. */
  head: bigint;
  mqtt: string | undefined;
  /** When its state was last seen (ms); 0 when known only from the pinned key. */
  seenAt: number;
  /** The serial of the certificate its last believed state carried (secure mode). */
  serial?: string;
}

/**
 * new: first state this process saw; back: it was offline and is online again; rebuilt: it
 * announces another store (a new cr-sqlite site id), whose versions start again from 0.
 */
export type ObserveResult = 'new' | 'back' | 'updated' | 'rebuilt' | 'key-mismatch' | 'identity-refused';

export class PeerDirectory implements PeerChangeFeed {
  private readonly nodes = new Map<string, KnownNode>();
  private readonly listeners = new Set<(change: PeerChange) => void>();
  private readonly bySiteId = new Map<string, string>();
  keyMismatches = 0;
  /** States refused because they carry no valid certificate or disagree with it. */
  identityRefused = 0;
  /** States refused because their certificate is revoked (docs/security.md, Revocation). */
  revokedRefused = 0;

  /**
   * `caPem`: the fleet's CA; states are then believed only as their certificates say
   * (certified-state.ts) and a certified new key replaces the pinned one. Without it (insecure
   * dev mode), keys are pinned on first use.
   */
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly caPem?: string,
  ) {
    for (const k of store.changes.knownKeys()) {
      this.remember({ nodeId: k.nodeId, role: k.role === 'hub' ? 'hub' : 'node', site: k.site, siteId: k.siteId, publicKey: k.publicKey, online: false, head: 0n, mqtt: undefined, seenAt: 0 });
    }
  }

  private remember(n: KnownNode): void {
    this.nodes.set(n.nodeId, n);
    this.bySiteId.set(n.siteId, n.nodeId);
  }

  observe(state: NodeState, now: number): ObserveResult {
    const pinned = this.store.changes.knownKey(state.nodeId);
    let serial: string | undefined;
    if (this.caPem !== undefined) {
      const verdict = checkCertifiedState(state, this.caPem, now);
      if (!verdict.ok) {
        this.identityRefused++;
        this.logger.error({ node: state.nodeId, site: state.site, role: state.role, reason: verdict.reason }, 'node state refused: not what its certificate says');
        return 'identity-refused';
      }
      const revoked = revocationReason(verdict.serial, (s) => this.store.revocations.get(s));
      if (revoked !== undefined) {
        this.revokedRefused++;
        this.logger.warn({ node: state.nodeId, site: state.site, reason: revoked }, REVOKED_MESSAGE);
        return 'identity-refused';
      }
      serial = verdict.serial;
    }
    const decision = this.pinDecision(state);
    if (decision === 'refuse') {
      this.keyMismatches++;
      const announced = keyFingerprint(state.publicKey);
      this.logger.error({ node: state.nodeId, pinned: pinned ? keyFingerprint(pinned.publicKey) : 'retired', announced }, 'node announced a different key; ignored');
      return 'key-mismatch';
    }
    if (decision === 'replace') this.logger.warn({ node: state.nodeId, old: keyFingerprint(pinned!.publicKey), pinned: keyFingerprint(state.publicKey) }, 'pinned the replacement key of a node');
    const before = this.nodes.get(state.nodeId);
    const key = { nodeId: state.nodeId, publicKey: state.publicKey, siteId: state.siteId, site: state.site, role: state.role };
    const rebuilt = pinned !== undefined && pinned.siteId !== '' && pinned.siteId !== state.siteId;
    if (rebuilt) this.store.changes.restartSource(key, now);
    else if (decision === 'replace') this.store.changes.pinKey(key, now);
    else if (!pinned || pinned.site !== state.site || pinned.role !== state.role) this.store.changes.rememberKey(key, now);
    this.remember({
      nodeId: state.nodeId,
      role: state.role,
      site: state.site,
      siteId: state.siteId,
      publicKey: state.publicKey,
      online: state.online,
      head: BigInt(state.head),
      mqtt: state.mqtt,
      seenAt: now,
      ...(serial !== undefined ? { serial } : {}),
    });
    // The first state this process sees of a node, or a flip of its online flag (its will).
    if (!before || before.seenAt === 0 || before.online !== state.online) {
      const change: PeerChange = { peer: state.nodeId, state: state.online ? 'up' : 'down', at: now, site: state.site, role: state.role };
      for (const listener of this.listeners) listener(change);
    }
    if (rebuilt) return 'rebuilt';
    if (!before || before.seenAt === 0) return 'new';
    return !before.online && state.online ? 'back' : 'updated';
  }

  /** Calls `listener` on each node's first state and each change of its online flag. */
  onChange(listener: (change: PeerChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether `state`'s key is trusted for its node id (key-pinning.ts). */
  pinDecision(state: NodeState): PinDecision {
    if (this.caPem !== undefined) {
      // The certificate vouches for the key (checked in observe): a new one replaces the old.
      const pinned = this.store.changes.knownKey(state.nodeId)?.publicKey;
      return pinned === undefined ? 'first' : pinned === state.publicKey ? 'same' : 'replace';
    }
    return decidePin(this.store.changes.knownKey(state.nodeId)?.publicKey, state.publicKey, this.store.nodes.replacement(state.nodeId));
  }

  /**
   * Whether `nodeId`'s batches and requests are refused: the certificate of its believed state is
   * revoked, or it has revocations and no believed certificate (revocation.ts).
   */
  revoked(nodeId: string): boolean {
    const revocations = this.store.revocations.ofNode(nodeId).length;
    if (revocations === 0) return false;
    return nodeRevoked(this.nodes.get(nodeId)?.serial, revocations, (s) => this.store.revocations.get(s));
  }

  get(nodeId: string): KnownNode | undefined {
    return this.nodes.get(nodeId);
  }

  /** The node whose store has this cr-sqlite site id (hex), from states, pinned keys or `nodes`. */
  nodeOfSiteId(siteId: string): { nodeId: string; site: string } | undefined {
    const id = this.bySiteId.get(siteId);
    if (id !== undefined) return { nodeId: id, site: this.nodes.get(id)!.site };
    const row = this.store.nodes.bySiteId(siteId);
    return row && { nodeId: row.id, site: row.site };
  }

  all(): KnownNode[] {
    return [...this.nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  markOffline(nodeId: string): void {
    const n = this.nodes.get(nodeId);
    if (n) n.online = false;
  }
}
