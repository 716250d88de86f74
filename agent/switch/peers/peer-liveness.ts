/**
 * Liveness of the other boxes of the site (DESIGN.md section 7, docs/peer-liveness.md), without
 * any I/O: is peer P up, down or not known yet, and since when. Two signals feed it: the peer's
 * MQTT state (its retained `online`, or its will `online: false`) where a broker carries it, and
 * a SIP OPTIONS keep-alive sent straight to the peer's SIP address, which needs no broker.
 *
 * Rules (timings in `LivenessTimings`, defaults below):
 * - a peer with a SIP address is probed every `intervalMs`; a probe not answered within
 *   `timeoutMs` is a miss; `misses` consecutive misses declare it down (at most
 *   misses * interval + timeout after the last sign of life: 850 ms with the defaults);
 * - any sign of life resets the misses and declares the peer up: an answer to any probe, also
 *   one that comes after its deadline, and any SIP message received from the peer's address
 *   (its responses, its requests, its own keep-alives), reported by the shell through heard();
 * - a late tick judges nothing: when our own event loop ran more than `lateTickMs` behind
 *   (a tick came later than `tickMs + lateTickMs` after the previous one), the answers may be
 *   waiting unread in the socket, so deadlines that passed are judged at the next tick that is
 *   on time, after the I/O has been read;
 * - an MQTT offline (the will), or the loss of the link to the peer's own broker, is checked at
 *   once by a confirming probe: if that probe misses, the peer is down after one timeout
 *   (250 ms); if it is answered, or the peer shows any other sign of life, the peer stays up;
 * - a peer without a SIP address follows its MQTT state;
 * - circuit breaker: while down, `isUp` is false (nothing waits on it) and the probes go on
 *   (half-open) until one is answered.
 * Events return outputs: probes for the shell to send (and to abandon when missed) and
 * transitions for the subscribers (routing, CDR takeover). Time is read from the Clock.
 */
import type { Clock } from '../../lib/clock.ts';

export type PeerState = 'up' | 'down' | 'unknown';

export interface LivenessTimings {
  /** Milliseconds between two probes of one peer. */
  intervalMs: number;
  /** Milliseconds a probe waits for a final response before it counts as a miss. */
  timeoutMs: number;
  /** Consecutive misses that declare a peer down. */
  misses: number;
  /** Milliseconds between two ticks of the shell. */
  tickMs: number;
  /** A tick later than this past its due time means our own loop lagged: it judges no deadline. */
  lateTickMs: number;
}

/** 3 x 200 + 250 = 850 ms from the last answer to "down" in the worst case (issue 11: < 1 s). */
export const DEFAULT_TIMINGS: LivenessTimings = { intervalMs: 200, timeoutMs: 250, misses: 3, tickMs: 50, lateTickMs: 100 };

export interface Transition {
  peer: string;
  state: 'up' | 'down';
  at: number;
  reason: string;
}

export type LivenessOutput =
  /** Send an OPTIONS to `sip` now and report answered(peer, seq) or failed(peer, seq). */
  | { kind: 'probe'; peer: string; sip: string; seq: number }
  /** The probe missed its deadline: stop its transaction; a late answer no longer counts. */
  | { kind: 'abandon'; peer: string; seq: number }
  | { kind: 'transition'; transition: Transition };

export interface PeerView {
  peer: string;
  state: PeerState;
  /** When it entered `state` (ms). */
  since: number;
  sip: string | undefined;
  /** What its last MQTT state said; undefined before any. */
  mqttOnline: boolean | undefined;
  /** Consecutive misses so far. */
  misses: number;
  /** When the last sign of life arrived (ms); undefined before any. */
  lastHeard: number | undefined;
}

interface Peer {
  state: PeerState;
  since: number;
  sip: string | undefined;
  mqttOnline: boolean | undefined;
  misses: number;
  lastHeard: number | undefined;
  /** Probes in flight: seq -> deadline. */
  outstanding: Map<number, number>;
  nextProbeAt: number;
  /** The probe sent to check an MQTT offline or a lost link: its miss alone declares the peer down. */
  confirmSeq: number | undefined;
  /** What that probe checks (for the transition's reason). */
  confirmWhy: string;
}

export class PeerLiveness {
  private readonly peers = new Map<string, Peer>();
  private readonly timings: LivenessTimings;
  private seq = 0;
  private lastTick: number | undefined;
  private lateTicks = 0;

  constructor(
    private readonly clock: Clock,
    timings: Partial<LivenessTimings> = {},
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  // ---- events --------------------------------------------------------------------------------

  /** A peer of the site became known, or announced another SIP address (undefined: none). */
  learn(peer: string, sip: string | undefined): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const now = this.clock.now();
    let p = this.peers.get(peer);
    if (!p) {
      p = { state: 'unknown', since: now, sip: undefined, mqttOnline: undefined, misses: 0, lastHeard: undefined, outstanding: new Map(), nextProbeAt: now, confirmSeq: undefined, confirmWhy: '' };
      this.peers.set(peer, p);
    }
    if (p.sip === sip) return out;
    // Probes to the old address say nothing of the new one.
    this.abandonAll(peer, p, out);
    p.sip = sip;
    p.misses = 0;
    if (sip !== undefined) this.probe(peer, p, now, out);
    else if (p.mqttOnline !== undefined) this.become(peer, p, p.mqttOnline ? 'up' : 'down', 'mqtt state, no sip address', out);
    return out;
  }

  /** The peer's MQTT state: retained `online`, or `online: false` (its will, or a clean stop). */
  mqttState(peer: string, online: boolean): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (!p) return out;
    const was = p.mqttOnline;
    p.mqttOnline = online;
    if (p.sip === undefined) {
      this.become(peer, p, online ? 'up' : 'down', online ? 'mqtt online' : 'mqtt offline', out);
      return out;
    }
    if (!online && was !== false) {
      this.confirm(peer, p, 'mqtt offline', out); // the will says gone
    } else if (online && p.state !== 'up' && was !== true && p.outstanding.size === 0) {
      this.probe(peer, p, this.clock.now(), out); // half-open at once rather than at the next interval
    }
    return out;
  }

  /**
   * A hint that the peer may be gone (the link to its own broker dropped): a confirming probe
   * now, whose miss alone declares it down. Without a SIP address a hint proves nothing.
   */
  suspect(peer: string): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (p && p.sip !== undefined) this.confirm(peer, p, 'broker link lost', out);
    return out;
  }

  /**
   * A final response to probe `seq` arrived (any status: the peer's SIP stack is alive). One
   * that comes after the probe's deadline (already a miss) still shows the peer alive.
   */
  answered(peer: string, seq: number): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (!p) return out;
    p.outstanding.delete(seq);
    this.alive(peer, p, 'keep-alive answered', out);
    return out;
  }

  /**
   * A SIP message (request or response, keep-alive or not) arrived from the peer's SIP address:
   * the peer is alive, as much as when it answers a probe.
   */
  heard(peer: string): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (p && p.sip !== undefined) this.alive(peer, p, 'sip traffic', out);
    return out;
  }

  /** Probe `seq` failed before its deadline (the transport refused it): a miss now. */
  failed(peer: string, seq: number): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (p?.outstanding.delete(seq)) this.miss(peer, p, seq, out);
    return out;
  }

  /**
   * Time passed: misses whose deadline is over, and probes that are due. A late tick (our loop
   * lagged) sends the due probes but leaves the deadlines to the next tick that is on time.
   */
  tick(): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const now = this.clock.now();
    const late = this.lastTick !== undefined && now - this.lastTick > this.timings.tickMs + this.timings.lateTickMs;
    this.lastTick = now;
    if (late) this.lateTicks++;
    for (const [peer, p] of this.peers) {
      for (const [seq, deadline] of p.outstanding) {
        if (deadline > now || late) continue;
        p.outstanding.delete(seq);
        out.push({ kind: 'abandon', peer, seq });
        this.miss(peer, p, seq, out);
      }
      if (p.sip !== undefined && now >= p.nextProbeAt) this.probe(peer, p, now, out);
    }
    return out;
  }

  /** Stops following a peer (it left the site); its probes are abandoned. */
  forget(peer: string): LivenessOutput[] {
    const out: LivenessOutput[] = [];
    const p = this.peers.get(peer);
    if (p) this.abandonAll(peer, p, out);
    this.peers.delete(peer);
    return out;
  }

  // ---- queries -------------------------------------------------------------------------------

  /** Up: answered lately (or, without a SIP address, online by MQTT). Down and unknown: no. */
  isUp(peer: string): boolean {
    return this.peers.get(peer)?.state === 'up';
  }

  view(): PeerView[] {
    return [...this.peers]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([peer, p]) => ({ peer, state: p.state, since: p.since, sip: p.sip, mqttOnline: p.mqttOnline, misses: p.misses, lastHeard: p.lastHeard }));
  }

  /** Ticks that came too late to judge (our own loop lagged); for the log and tests. */
  get lateTickCount(): number {
    return this.lateTicks;
  }

  /** Probes in flight (for the shell's stop and for tests). */
  outstanding(): Array<{ peer: string; seq: number }> {
    const all: Array<{ peer: string; seq: number }> = [];
    for (const [peer, p] of this.peers) for (const seq of p.outstanding.keys()) all.push({ peer, seq });
    return all;
  }

  // ---- rules ---------------------------------------------------------------------------------

  private probe(peer: string, p: Peer, now: number, out: LivenessOutput[]): number {
    const seq = ++this.seq;
    p.outstanding.set(seq, now + this.timings.timeoutMs);
    p.nextProbeAt = now + this.timings.intervalMs;
    out.push({ kind: 'probe', peer, sip: p.sip!, seq });
    return seq;
  }

  /** One probe of its own, unless the peer is down already or such a probe is in flight. */
  private confirm(peer: string, p: Peer, why: string, out: LivenessOutput[]): void {
    if (p.state === 'down' || p.confirmSeq !== undefined) return;
    p.confirmSeq = this.probe(peer, p, this.clock.now(), out);
    p.confirmWhy = why;
  }

  private miss(peer: string, p: Peer, seq: number, out: LivenessOutput[]): void {
    p.misses++;
    const confirmed = p.confirmSeq === seq;
    if (confirmed) p.confirmSeq = undefined;
    if (confirmed) this.become(peer, p, 'down', `${p.confirmWhy}, keep-alive unanswered`, out);
    else if (p.misses >= this.timings.misses) this.become(peer, p, 'down', `${p.misses} keep-alives unanswered`, out);
  }

  /** A sign of life: no miss so far counts, a confirming probe is contradicted, the peer is up. */
  private alive(peer: string, p: Peer, why: string, out: LivenessOutput[]): void {
    p.lastHeard = this.clock.now();
    p.misses = 0;
    p.confirmSeq = undefined;
    this.become(peer, p, 'up', why, out);
  }

  private become(peer: string, p: Peer, state: 'up' | 'down', reason: string, out: LivenessOutput[]): void {
    if (p.state === state) return;
    const at = this.clock.now();
    p.state = state;
    p.since = at;
    out.push({ kind: 'transition', transition: { peer, state, at, reason } });
  }

  private abandonAll(peer: string, p: Peer, out: LivenessOutput[]): void {
    for (const seq of p.outstanding.keys()) out.push({ kind: 'abandon', peer, seq });
    p.outstanding.clear();
    p.confirmSeq = undefined;
  }
}
