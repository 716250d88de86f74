/**
 * One call's relay: leg a (caller) and leg b (callee), each with its own RTP/RTCP port pair.
 * The switch sees it as a RelaySession (relay-types.ts): local ports for its SDP, update() for
 * each offer/answer/re-INVITE, stats, release.
 *
 * It also owns the media timeout state: UdpMediaRelay calls checkTimeout() once a second for
 * every session (one timer per relay, not per session or packet).
 */
import type { Logger } from '../lib/logger.ts';
import { buildPayloadTypeMap } from './payload-type-map.ts';
import { RelayLeg, type RelayLegStats } from './relay-leg.ts';
import type { LegCodec, LegName, LocalMedia, RelayCallbacks, RelaySession, RemoteMedia } from './relay-types.ts';
import { Transcoder } from './transcode/transcoder.ts';

export interface RelaySessionOptions {
  id: string;
  legA: RelayLeg;
  legB: RelayLeg;
  callbacks: RelayCallbacks;
  timeoutMs: number;
  now: () => number;
  logger: Logger;
  /** Called once by release(), after the sockets are closed (returns the ports). */
  onRelease: (session: UdpRelaySession) => void;
}

export class UdpRelaySession implements RelaySession {
  readonly id: string;
  private readonly a: RelayLeg;
  private readonly b: RelayLeg;
  private readonly options: RelaySessionOptions;
  private released = false;
  /** True from the moment both legs have remote media. */
  private timing = false;
  private timedOut = false;

  constructor(options: RelaySessionOptions) {
    this.options = options;
    this.id = options.id;
    this.a = options.legA;
    this.b = options.legB;
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  get isReleased(): boolean {
    return this.released;
  }

  local(leg: LegName): LocalMedia {
    return { ...this.leg(leg).local };
  }

  update(leg: LegName, remote: RemoteMedia): void {
    if (this.released) return;
    const target = this.leg(leg);
    target.setRemote(remote);
    const a = this.a.remote;
    const b = this.b.remote;
    this.a.rewriter.setPayloadTypeMap(a && b ? buildPayloadTypeMap(a.payloadTypes, b.payloadTypes) : null);
    this.b.rewriter.setPayloadTypeMap(a && b ? buildPayloadTypeMap(b.payloadTypes, a.payloadTypes) : null);
    const now = this.options.now();
    if (!this.timing && a && b) {
      this.timing = true;
      this.a.lastActiveAt = now;
      this.b.lastActiveAt = now;
    } else {
      // A renegotiated leg (resumed from hold, new phone) gets the full timeout again.
      target.lastActiveAt = now;
    }
    this.options.logger.debug({ leg, address: remote.address, rtpPort: remote.rtpPort, rtcpMux: remote.rtcpMux, sending: remote.sending }, 'remote media');
  }

  setTranscoding(codecs: Record<LegName, LegCodec> | null): void {
    if (this.released) return;
    if (codecs !== null && this.a.transcoder && sameCodec(this.a.transcoder.from, codecs.a) && sameCodec(this.a.transcoder.to, codecs.b)) return;
    this.stopTranscoding();
    if (codecs === null) return;
    const a = new Transcoder(codecs.a, codecs.b, this.b.sendRtp);
    let b: Transcoder;
    try {
      b = new Transcoder(codecs.b, codecs.a, this.a.sendRtp);
    } catch (err) {
      a.close();
      throw err;
    }
    this.a.transcoder = a;
    this.b.transcoder = b;
    this.options.logger.debug({ a: codecs.a, b: codecs.b }, 'transcoding');
  }

  /** True while the legs use different codecs (a transcoder channel each way). */
  get transcoding(): boolean {
    return this.a.transcoder !== null || this.b.transcoder !== null;
  }

  /** Interarrival jitter in ms of the RTP each party sends. */
  jitterMs(): Record<LegName, number> {
    return { a: this.a.jitterMs(), b: this.b.jitterMs() };
  }

  stats(): Record<LegName, RelayLegStats> {
    const withTranscoder = (leg: RelayLeg): RelayLegStats => (leg.transcoder ? { ...leg.stats(), transcoded: leg.transcoder.stats() } : leg.stats());
    return { a: withTranscoder(this.a), b: withTranscoder(this.b) };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.stopTranscoding();
    this.a.close();
    this.b.close();
    this.options.onRelease(this);
    const s = this.stats();
    this.options.logger.debug({ a: s.a, b: s.b }, 'relay released');
  }

  /**
   * Media timeout: fires onMediaTimeout once when, for timeoutMs, none of the legs whose party
   * is sending (not on hold) delivered RTP. Nothing is timed before both legs have remote media,
   * nor while no leg is sending.
   */
  checkTimeout(now: number): void {
    if (this.released || this.timedOut || !this.timing) return;
    let sending = 0;
    let idle = 0;
    for (const leg of [this.a, this.b]) {
      if (leg.rtpSeen) {
        leg.rtpSeen = false;
        leg.lastActiveAt = now;
      }
      if (leg.remote?.sending) {
        sending++;
        if (now - leg.lastActiveAt >= this.options.timeoutMs) idle++;
      }
    }
    if (sending === 0 || idle < sending) return;
    this.timedOut = true;
    this.options.logger.info({ timeoutMs: this.options.timeoutMs }, 'media timeout');
    try {
      this.options.callbacks.onMediaTimeout(this);
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'onMediaTimeout failed');
    }
  }

  private stopTranscoding(): void {
    for (const leg of [this.a, this.b]) {
      leg.transcoder?.close();
      leg.transcoder = null;
    }
  }

  private leg(name: LegName): RelayLeg {
    return name === 'a' ? this.a : this.b;
  }
}

function sameCodec(x: LegCodec, y: LegCodec): boolean {
  return x.payloadType === y.payloadType && x.codec === y.codec && x.ptime === y.ptime &&
    x.telephoneEvent?.payloadType === y.telephoneEvent?.payloadType && x.telephoneEvent?.clockRate === y.telephoneEvent?.clockRate;
}
