/**
 * The RTP/RTCP relay (DESIGN.md §8, docs/media-relay.md): implements MediaRelay for the switch.
 * Every call gets a session with two legs; each leg binds an even RTP port and the next RTCP
 * port from `rtp.portRange` on `rtp.address`. Packets are relayed without decoding (same codec on
 * both sides); the media timeout is checked once a second for all sessions with one timer.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { BindError } from '../lib/errors.ts';
import { isPortTaken, MediaError } from './errors.ts';
import { PortPool } from './port-pool.ts';
import { RelayLeg, type RtcpTap } from './relay-leg.ts';
import { UdpRelaySession } from './relay-session.ts';
import type { MediaRelay, RelayCallbacks } from './relay-types.ts';
import { bindSocketPair, type SocketPair } from './socket-pair.ts';

export interface UdpMediaRelayOptions {
  /** `rtp.address`: bound by every socket and written into SDP. */
  address: string;
  /** `rtp.portRange`: [lo, hi], inclusive. */
  portRange: readonly [number, number];
  /** `rtp.timeout` in milliseconds. */
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /** How often the media timeout is checked; 1000 ms unless a test wants otherwise. */
  checkIntervalMs?: number;
}

/** One RTCP packet a party sent to the relay, with the Call-ID of the call (the caller's leg). */
export interface RtcpSeen {
  callId: string;
  packet: Buffer;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

export type RtcpObserver = (rtcp: RtcpSeen) => void;

/** RTP of one direction, named by the party that sends it (leg a: the caller, leg b: the callee). */
export interface DirectionTraffic {
  /** Packets received from that party and relayed, since the relay started. */
  packets: number;
  /** Packets of that party lost on the way to the box (sequence gaps). */
  lost: number;
  /** Mean interarrival jitter (ms) over the calls in progress with media from that party; 0 without. */
  jitterMs: number;
}

/** The relay's counters for metrics: released sessions and those in progress together. */
export interface RelayTraffic {
  a: DirectionTraffic;
  b: DirectionTraffic;
  /** Sessions in progress whose legs use different codecs. */
  transcoding: number;
}

export class UdpMediaRelay implements MediaRelay {
  private readonly options: UdpMediaRelayOptions;
  private readonly pool: PortPool;
  private readonly sessions = new Set<UdpRelaySession>();
  private readonly checkIntervalMs: number;
  private running = false;
  /** The bind check of start(); settled when allocate() may bind. */
  private ready: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private nextId = 1;
  private rtcpObservers: RtcpObserver[] = [];
  /** Packets and loss of released sessions, per leg. */
  private readonly retired = { a: { packets: 0, lost: 0 }, b: { packets: 0, lost: 0 } };

  constructor(options: UdpMediaRelayOptions) {
    if (!(options.timeoutMs > 0)) throw new MediaError('media.config', `media timeout must be positive, got ${options.timeoutMs}`);
    this.options = options;
    this.pool = new PortPool(options.portRange);
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** RTP counters per direction and transcoding sessions, for metrics (agent/control/box-metrics.ts). */
  traffic(): RelayTraffic {
    const out: RelayTraffic = { a: { ...this.retired.a, jitterMs: 0 }, b: { ...this.retired.b, jitterMs: 0 }, transcoding: 0 };
    const jitter = { a: [] as number[], b: [] as number[] };
    for (const session of this.sessions) {
      const stats = session.stats();
      const j = session.jitterMs();
      if (session.transcoding) out.transcoding++;
      for (const leg of ['a', 'b'] as const) {
        out[leg].packets += stats[leg].packetsIn;
        out[leg].lost += stats[leg].lost;
        if (stats[leg].packetsIn > 0) jitter[leg].push(j[leg]);
      }
    }
    for (const leg of ['a', 'b'] as const) {
      if (jitter[leg].length) out[leg].jitterMs = jitter[leg].reduce((x, y) => x + y, 0) / jitter[leg].length;
    }
    return out;
  }

  /** Port pairs free (two per session). */
  get freePortPairs(): number {
    return this.pool.available;
  }

  /**
   * Starts the media timeout check, and binds one free port pair and closes it again: a relay
   * address that is not on this host, or a port range whose every pair is taken, fails here (the
   * node's start) with a MediaError whose cause is a BindError, not at the first call.
   * allocate() waits for this check.
   */
  start(): Promise<void> {
    if (this.running) return this.ready;
    this.running = true;
    this.schedule();
    this.ready = this.checkBind();
    // allocate() rethrows a failure; a caller that does not await start() must not crash on it.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private async checkBind(): Promise<void> {
    const { address, portRange } = this.options;
    let refused: unknown;
    for (const port of this.pool.freePorts()) {
      let pair: SocketPair;
      try {
        pair = await bindSocketPair(address, port);
      } catch (err) {
        if (!isPortTaken(err)) throw await this.failStart(new BindError('udp', address, portRange, err));
        refused = err;
        continue;
      }
      pair.rtp.close();
      pair.rtcp.close();
      return;
    }
    const why = (refused as BindError | undefined)?.errno === 'EACCES' ? 'reserved by the OS (permission denied)' : 'in use';
    throw await this.failStart(new BindError('udp', address, portRange, refused, `every port pair of the range is ${why}`));
  }

  private async failStart(bind: BindError): Promise<MediaError> {
    await this.stop();
    return new MediaError('media.bind', bind.message, { cause: bind });
  }

  async allocate(callId: string, callbacks: RelayCallbacks): Promise<UdpRelaySession> {
    await this.ready;
    if (!this.running) throw new MediaError('media.stopped', 'the media relay is not running');
    const id = `${callId}#${this.nextId++}`;
    const logger = this.options.logger.child({ relay: id });
    const first = await this.pool.allocate((port) => bindSocketPair(this.options.address, port));
    let second: { port: number; value: SocketPair };
    try {
      second = await this.pool.allocate((port) => bindSocketPair(this.options.address, port));
    } catch (err) {
      first.value.rtp.close();
      first.value.rtcp.close();
      this.pool.free(first.port);
      throw err;
    }
    const legA = new RelayLeg('a', this.options.address, first.port, first.value, logger);
    const legB = new RelayLeg('b', this.options.address, second.port, second.value, logger);
    if (this.rtcpObservers.length > 0) legA.onRtcp = legB.onRtcp = this.rtcpTap(callId, logger);
    const session = new UdpRelaySession({
      id,
      legA,
      legB,
      callbacks,
      timeoutMs: this.options.timeoutMs,
      now: () => this.options.clock.now(),
      logger,
      onRelease: (s) => {
        const stats = s.stats();
        for (const leg of ['a', 'b'] as const) {
          this.retired[leg].packets += stats[leg].packetsIn;
          this.retired[leg].lost += stats[leg].lost;
        }
        this.pool.free(legA.local.rtpPort);
        this.pool.free(legB.local.rtpPort);
        this.sessions.delete(s);
      },
    });
    if (!this.running) {
      // stop() ran while the ports were being bound.
      session.release();
      throw new MediaError('media.stopped', 'the media relay was stopped');
    }
    this.sessions.add(session);
    logger.debug({ a: legA.local.rtpPort, b: legB.local.rtpPort }, 'relay allocated');
    return session;
  }

  /**
   * Adds an observer of the RTCP packets of the sessions allocated from now on (trace export);
   * returns its removal. Observers are called synchronously, before the relay rewrites a packet.
   */
  observeRtcp(observer: RtcpObserver): () => void {
    this.rtcpObservers = [...this.rtcpObservers, observer];
    return () => {
      this.rtcpObservers = this.rtcpObservers.filter((o) => o !== observer);
    };
  }

  private rtcpTap(callId: string, logger: Logger): RtcpTap {
    return (packet, srcAddress, srcPort, dstAddress, dstPort) => {
      for (const o of this.rtcpObservers) {
        try {
          o({ callId, packet, srcAddress, srcPort, dstAddress, dstPort });
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'rtcp observer failed');
        }
      }
    };
  }

  /** Releases every session and stops the timeout check. */
  async stop(): Promise<void> {
    this.running = false;
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const session of [...this.sessions]) session.release();
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(this.tick, this.checkIntervalMs);
  }

  private readonly tick = (): void => {
    if (!this.running) return;
    const now = this.options.clock.now();
    for (const session of [...this.sessions]) session.checkTimeout(now);
    this.schedule();
  };
}
