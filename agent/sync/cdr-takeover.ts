/**
 * The decisions of a CDR takeover (issue 11 item 5, docs/calls.md section 8), without any I/O:
 * when a box of the site is declared dead, the calls it had checkpointed in the replicated
 * `dialogs` table are closed on its behalf as `interrupted` CDRs, so billing loses no call.
 *
 * Events: a peer declared dead at T (`peerDown`), a peer back (`peerUp`), and `tick`, which
 * returns the takeovers due now: for each dead peer whose grace period has run out, the CDRs
 * to write for the checkpoints this replica holds of it (the shell deletes each checkpoint and
 * inserts its CDR in one transaction, store/cdrs.ts `takeOver`). A dead peer stays watched
 * until it is back, so checkpoints of it that arrive late (a catch-up) are closed too.
 *
 * Exactly once by construction: the CDR is computed from the checkpoint alone
 * (store/cdrs.ts `interruptedCdr`: the call's own uuid as key, no clock, no closer's id), so
 * survivors that race, the hub, and the dead box itself when it comes back and recovers its
 * own checkpoints all write the identical row, which cr-sqlite merges into one.
 *
 * Timing: a box takes over `graceMs` after the peer was declared dead (a box that is merely
 * slow keeps its calls; replication has time to bring every survivor the last checkpoint); the
 * hub waits twice as long and so only acts when no survivor did (a one-box site, or survivors
 * cut off), and if it races anyway its row is the same one.
 */
import type { Clock } from '../lib/clock.ts';
import { interruptedCdr, type CallCheckpoint, type CdrRecord } from '../store/cdrs.ts';

/** A change of a peer's liveness, from its MQTT state (peer-directory.ts) or a keep-alive. */
export interface PeerChange {
  peer: string;
  state: 'up' | 'down';
  /** When it was declared so (ms, this replica's clock). */
  at: number;
  /** Its site, when the source knows it (a source of site peers only may leave it out). */
  site?: string;
  role?: 'node' | 'hub';
}

/** Something that reports liveness changes (returns the unsubscribe function). */
export interface PeerChangeFeed {
  onChange(listener: (change: PeerChange) => void): () => void;
}

export interface CdrTakeoverOptions {
  /** This replica's node id. */
  self: string;
  /** A box's site; undefined on the hub, which covers the boxes of every site. */
  site: string | undefined;
  /** `sync.takeoverGrace` in ms: how long a box waits after a peer is declared dead. */
  graceMs: number;
  clock: Clock;
  /** The checkpoints of `nodeId` this replica holds (store/cdrs.ts `checkpointsOf`). */
  checkpointsOf: (nodeId: string) => CallCheckpoint[];
}

export interface Takeover {
  /** The dead node, owner of the calls and of their CDRs. */
  owner: string;
  declaredDeadAt: number;
  cdrs: CdrRecord[];
}

export class CdrTakeover {
  /** Dead peers this replica covers: peer -> when it was declared dead. */
  private readonly dead = new Map<string, number>();

  constructor(private readonly o: CdrTakeoverOptions) {}

  /** How long after a peer is declared dead this replica takes its calls over. */
  get delayMs(): number {
    return this.o.site === undefined ? 2 * this.o.graceMs : this.o.graceMs;
  }

  // ---- events --------------------------------------------------------------------------------

  changed(change: PeerChange): void {
    if (change.state === 'down') this.peerDown(change.peer, change.at, change.site, change.role);
    else this.peerUp(change.peer);
  }

  /** `peer` was declared dead at `at`; ignored unless this replica covers it. */
  peerDown(peer: string, at: number, site?: string, role: 'node' | 'hub' = 'node'): void {
    if (peer === this.o.self || role === 'hub') return;
    if (this.o.site !== undefined && site !== undefined && site !== this.o.site) return;
    // Declared dead again while still dead: the first declaration counts.
    if (!this.dead.has(peer)) this.dead.set(peer, at);
  }

  /** `peer` is back: it closes its own calls from now on (its start-up recovery). */
  peerUp(peer: string): void {
    this.dead.delete(peer);
  }

  /** The takeovers due now, one per dead peer that has checkpoints left here. */
  tick(): Takeover[] {
    const now = this.o.clock.now();
    const out: Takeover[] = [];
    for (const [owner, declaredDeadAt] of this.dead) {
      if (now < declaredDeadAt + this.delayMs) continue;
      const left = this.o.checkpointsOf(owner).filter((c) => c.nodeId === owner);
      if (left.length > 0) out.push({ owner, declaredDeadAt, cdrs: left.map(interruptedCdr) });
    }
    return out;
  }

  // ---- queries -------------------------------------------------------------------------------

  /** When the calls of `peer` are taken over; undefined while it is not dead (or not covered). */
  dueAt(peer: string): number | undefined {
    const at = this.dead.get(peer);
    return at === undefined ? undefined : at + this.delayMs;
  }
}
