/**
 * The shell around PeerLiveness (peer-liveness.ts; docs/peer-liveness.md): it sends the core's
 * probes as SIP OPTIONS outside any dialog (RFC 3261 §11) through the box's endpoint, each in
 * its own non-INVITE client transaction that it abandons at the core's deadline (Timer F's
 * 32 s is far too slow for a keep-alive), feeds back answers and failures, ticks the core every
 * 50 ms on the injected Clock, and tells subscribers of each transition. The peers' states
 * arrive from replication through peerState(); the OPTIONS the peers send are answered by the
 * request dispatcher like any other. The endpoint reports the source of every SIP message it
 * receives through heardFrom(): a message from a peer's SIP address is a sign of life. Routing and CDR takeover read it through PeerLivenessView.
 */
import { parseListenAddress } from '../../config/listen-address.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import { randomHex } from '../../lib/random-token.ts';
import { SipHeaders, type SipRequest } from '../../sip/message/sip-message.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { ClientTransaction } from '../../sip/transaction/transaction-layer.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import { PeerLiveness, type LivenessOutput, type LivenessTimings, type PeerState, type PeerView, type Transition } from './peer-liveness.ts';

/** How often the core looks at deadlines and due probes. */
export const KEEP_ALIVE_TICK_MS = 50;

/** What routing and CDR takeover see of the site's peers. */
export interface PeerLivenessView {
  /** False while the peer is down or not yet known to be up: nothing new should wait on it. */
  isUp(peer: string): boolean;
  /** Each transition to up or down, as it happens; returns the unsubscribe function. */
  onChange(listener: (t: Transition) => void): () => void;
  view(): PeerView[];
}

/** The part of the SIP endpoint the keep-alive uses. */
export interface KeepAliveSignalling {
  request(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction;
  viaFor(dest: Endpoint): string;
}

/** One peer as `outpost status` shows it (`sync.liveness` of sync-status.json). */
export interface PeerLivenessStatus {
  nodeId: string;
  state: PeerState;
  /** ISO 8601: when it entered `state`. */
  since: string;
  sip: string | null;
}

export interface PeerKeepAliveOptions {
  nodeId: string;
  domain: string;
  userAgent: string;
  /** Peers listed in the config: shown (unknown) before any state of theirs arrives. */
  listed?: string[];
  signalling: KeepAliveSignalling;
  clock: Clock;
  logger: Logger;
  timings?: Partial<LivenessTimings>;
}

export class PeerKeepAlive implements PeerLivenessView {
  private readonly core: PeerLiveness;
  private readonly listeners = new Set<(t: Transition) => void>();
  private readonly inFlight = new Map<number, ClientTransaction>();
  /** `proto:host:port` of each peer's SIP address -> the peer. */
  private readonly bySip = new Map<string, string>();
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly o: PeerKeepAliveOptions) {
    this.core = new PeerLiveness(o.clock, { tickMs: KEEP_ALIVE_TICK_MS, ...o.timings });
  }

  start(): void {
    this.running = true;
    for (const id of this.o.listed ?? []) if (id !== this.o.nodeId) this.run(this.core.learn(id, undefined));
    this.schedule();
  }

  /** Stops the tick and abandons the probes in flight. Safe to call twice. */
  stop(): void {
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const tx of this.inFlight.values()) tx.abandon();
    this.inFlight.clear();
  }

  /** A state of a site peer, heard by replication (retained, fresh, or its will). */
  peerState(peer: { nodeId: string; online: boolean; sip: string | undefined }): void {
    if (!this.running || peer.nodeId === this.o.nodeId) return;
    for (const [sip, id] of this.bySip) if (id === peer.nodeId && sip !== peer.sip) this.bySip.delete(sip);
    if (peer.sip !== undefined) this.bySip.set(peer.sip, peer.nodeId);
    this.run(this.core.learn(peer.nodeId, peer.sip));
    this.run(this.core.mqttState(peer.nodeId, peer.online));
  }

  /** The link to the peer's own broker dropped: a confirming probe now. */
  peerLinkLost(nodeId: string): void {
    if (this.running) this.run(this.core.suspect(nodeId));
  }

  /** A SIP message arrived from `source` (any kind): from a peer's SIP address, a sign of life. */
  heardFrom(source: Endpoint): void {
    if (!this.running || this.bySip.size === 0) return;
    const host = source.address.includes(':') ? `[${source.address}]` : source.address;
    const peer = this.bySip.get(`${source.protocol}:${host}:${source.port}`);
    if (peer !== undefined) this.run(this.core.heard(peer));
  }

  isUp(peer: string): boolean {
    return this.core.isUp(peer);
  }

  onChange(listener: (t: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  view(): PeerView[] {
    return this.core.view();
  }

  status(): PeerLivenessStatus[] {
    return this.core.view().map((p) => ({ nodeId: p.peer, state: p.state, since: new Date(p.since).toISOString(), sip: p.sip ?? null }));
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimeout(() => {
      if (!this.running) return;
      const late = this.core.lateTickCount;
      this.run(this.core.tick());
      if (this.core.lateTickCount !== late) this.o.logger.debug({ lateTicks: this.core.lateTickCount }, 'keep-alive tick late: deadlines judged at the next tick');
      this.schedule();
    }, KEEP_ALIVE_TICK_MS);
  }

  private run(outputs: LivenessOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'probe') this.probe(o.peer, o.sip, o.seq);
      else if (o.kind === 'abandon') {
        this.inFlight.get(o.seq)?.abandon();
        this.inFlight.delete(o.seq);
      } else this.announce(o.transition);
    }
  }

  private announce(t: Transition): void {
    this.o.logger.info({ peer: t.peer, reason: t.reason, at: t.at }, t.state === 'up' ? 'peer up' : 'peer down');
    for (const listener of [...this.listeners]) {
      try {
        listener(t);
      } catch (err) {
        this.o.logger.error({ peer: t.peer, err: (err as Error).message }, 'peer liveness listener failed');
      }
    }
  }

  private probe(peer: string, sip: string, seq: number): void {
    if (!this.running) return;
    const parsed = parseListenAddress(sip);
    if (typeof parsed === 'string') return this.run(this.core.failed(peer, seq));
    const dest: Endpoint = { protocol: parsed.protocol, address: parsed.host, port: parsed.port };
    const settle = (outputs: () => LivenessOutput[]) => {
      if (!this.inFlight.delete(seq)) return; // abandoned already
      this.run(outputs());
    };
    const user: ClientTransactionUser = {
      onResponse: (res) => {
        if (res.status >= 200) settle(() => this.core.answered(peer, seq));
      },
      onTimeout: () => settle(() => this.core.failed(peer, seq)),
      onTransportError: () => settle(() => this.core.failed(peer, seq)),
    };
    try {
      this.inFlight.set(seq, this.o.signalling.request(this.options(peer, dest), dest, user));
    } catch (err) {
      this.inFlight.delete(seq);
      this.o.logger.debug({ peer, err: (err as Error).message }, 'keep-alive not sent');
      this.run(this.core.failed(peer, seq));
    }
  }

  /** An OPTIONS to the peer box itself (RFC 3261 §11.1: a Request-URI without a user). */
  private options(peer: string, dest: Endpoint): SipRequest {
    const o = this.o;
    const host = dest.address.includes(':') ? `[${dest.address}]` : dest.address;
    return {
      type: 'request',
      method: 'OPTIONS',
      uri: `sip:${host}:${dest.port}${dest.protocol === 'udp' ? '' : `;transport=${dest.protocol}`}`,
      version: 'SIP/2.0',
      headers: new SipHeaders([
        { name: 'Via', value: o.signalling.viaFor(dest) },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: `<sip:${o.nodeId}@${o.domain}>;tag=${randomHex(6)}` },
        { name: 'To', value: `<sip:${peer}@${o.domain}>` },
        { name: 'Call-ID', value: `${randomHex(10)}@${o.nodeId}` },
        { name: 'CSeq', value: '1 OPTIONS' },
        { name: 'Accept', value: 'application/sdp' },
        { name: 'User-Agent', value: o.userAgent },
      ]),
      body: Buffer.alloc(0),
    };
  }
}

/**
 * The SIP address a box announces to its site peers: its first bound TLS listener when it has a
 * node certificate (`tls`: inter-box over mutual TLS, docs/sip-tls.md), else its first UDP
 * listener (else the first), with `wildcardHost` (rtp.address, the address it writes into SDP)
 * for a wildcard host.
 */
export function announcedSipAddress(bound: Endpoint[], wildcardHost: string | undefined, tls = false): string | undefined {
  const e = (tls ? bound.find((b) => b.protocol === 'tls') : undefined) ?? bound.find((b) => b.protocol === 'udp') ?? bound.find((b) => b.protocol !== 'tls') ?? bound[0];
  if (!e) return undefined;
  const wildcard = e.address === '0.0.0.0' || e.address === '::';
  const host = wildcard ? wildcardHost : e.address;
  if (host === undefined) return undefined;
  return `${e.protocol}:${host.includes(':') ? `[${host}]` : host}:${e.port}`;
}
