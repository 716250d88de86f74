/**
 * One side of a relay session: the RTP and RTCP sockets facing one party, where that party's
 * media goes (SDP address, or the latched source), and the per-packet path.
 *
 * Per packet: check version and length, demultiplex RTCP on the RTP port (RFC 5761 §4), check
 * or latch the source (symmetric RTP, RFC 4961), count, rewrite header bytes in place
 * (StreamRewriter), and send the same Buffer out of the peer leg's socket. No allocation, closure
 * or promise of ours per packet; send() is called without a callback.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Logger } from '../lib/logger.ts';
import { JitterEstimator } from './jitter-estimator.ts';
import { LossCounter } from './loss-counter.ts';
import type { LegName, LegStats, LocalMedia, RemoteMedia } from './relay-types.ts';
import { rewriteRtcp } from './rtcp-rewriter.ts';
import { closeQuietly, type SocketPair } from './socket-pair.ts';
import { StreamRewriter } from './stream-rewriter.ts';
import type { Transcoder } from './transcode/transcoder.ts';

/** LegStats plus the drops the interface does not name. */
export interface RelayLegStats extends LegStats {
  /** Datagrams that are not RTP/RTCP version 2 or too short (dropped). */
  malformed: number;
  /** Packets from this leg's party that had nowhere to go: the other party's address is unknown. */
  unroutable: number;
}

/** An RTCP packet from a leg's party (source) to the relay's port (destination), as received. */
export type RtcpTap = (packet: Buffer, srcAddress: string, srcPort: number, dstAddress: string, dstPort: number) => void;

export class RelayLeg {
  readonly name: LegName;
  readonly local: LocalMedia;
  /** The other leg; set by the session right after both legs exist. */
  peer!: RelayLeg;
  remote: RemoteMedia | null = null;
  /** RTP from this leg's party, as it goes out to the peer's party. */
  readonly rewriter = new StreamRewriter();
  /** Set while the legs use different codecs: RTP from this leg's party goes through it. */
  transcoder: Transcoder | null = null;
  /** Set on every RTP packet from this leg's party; the media timeout check clears it. */
  rtpSeen = false;
  /** Last time (clock ms) the timeout check found RTP from this party, or the start of the wait. */
  lastActiveAt = 0;
  /** Told every RTCP packet from this leg's party before it is rewritten (trace export); set by the relay. */
  onRtcp: RtcpTap | null = null;

  private readonly rtp: Socket;
  private readonly rtcp: Socket;
  private readonly logger: Logger;
  private readonly loss = new LossCounter();
  private readonly jitter = new JitterEstimator();
  /** RTP clock rate of this party's audio (its SDP's first codec), for the jitter in ms. */
  private clockRate = 8000;
  /** Where this leg's party gets its RTP/RTCP; port 0 while unknown. */
  private rtpDestAddress = '';
  private rtpDestPort = 0;
  private rtcpDestAddress = '';
  private rtcpDestPort = 0;
  private rtcpMux = false;
  private rtpLatched = false;
  private rtcpLatched = false;
  private latchedTo: string | null = null;

  private packetsIn = 0;
  private bytesIn = 0;
  private packetsOut = 0;
  private bytesOut = 0;
  private unexpectedSource = 0;
  private rtcpIn = 0;
  private rtcpOut = 0;
  private malformed = 0;
  private unroutable = 0;

  constructor(name: LegName, address: string, rtpPort: number, sockets: SocketPair, logger: Logger) {
    this.name = name;
    this.local = { address, rtpPort, rtcpPort: rtpPort + 1 };
    this.rtp = sockets.rtp;
    this.rtcp = sockets.rtcp;
    this.logger = logger;
    this.rtp.on('message', this.onRtpPort);
    this.rtcp.on('message', this.onRtcpPort);
    this.rtp.on('error', this.onSocketError);
    this.rtcp.on('error', this.onSocketError);
  }

  /**
   * New SDP for this leg. Latching starts over; while it does, packets go to the previously
   * latched source if the SDP address did not change (a NATed phone's re-INVITE), else to the
   * new SDP address.
   */
  setRemote(remote: RemoteMedia): void {
    const prev = this.remote;
    this.remote = remote;
    this.rtcpMux = remote.rtcpMux;
    this.clockRate = audioClockRate(remote.payloadTypes);
    const usable = remote.rtpPort > 0 && remote.address !== '0.0.0.0' && remote.address !== '::';
    const sameRtp = prev !== null && prev.address === remote.address && prev.rtpPort === remote.rtpPort;
    if (!(this.rtpLatched && sameRtp)) {
      this.rtpDestAddress = remote.address;
      this.rtpDestPort = usable ? remote.rtpPort : 0;
      this.latchedTo = null;
    }
    const sameRtcp = prev !== null && prev.address === remote.address && prev.rtcpPort === remote.rtcpPort;
    if (!(this.rtcpLatched && sameRtcp)) {
      this.rtcpDestAddress = remote.address;
      this.rtcpDestPort = usable && remote.rtcpPort > 0 ? remote.rtcpPort : 0;
    }
    this.rtpLatched = false;
    this.rtcpLatched = false;
  }

  stats(): RelayLegStats {
    return {
      packetsIn: this.packetsIn,
      bytesIn: this.bytesIn,
      packetsOut: this.packetsOut,
      bytesOut: this.bytesOut,
      unexpectedSource: this.unexpectedSource,
      lost: this.loss.lost,
      rtcpIn: this.rtcpIn,
      rtcpOut: this.rtcpOut,
      latchedTo: this.latchedTo,
      malformed: this.malformed,
      unroutable: this.unroutable,
    };
  }

  /** Interarrival jitter of this party's RTP in ms (RFC 3550 A.8); 0 before media. */
  jitterMs(): number {
    return this.jitter.ms(this.clockRate);
  }

  close(): void {
    this.rtp.removeAllListeners('message');
    this.rtcp.removeAllListeners('message');
    closeQuietly(this.rtp);
    closeQuietly(this.rtcp);
  }

  private readonly onRtpPort = (msg: Buffer, rinfo: RemoteInfo): void => {
    const len = msg.length;
    if (len < 8 || (msg[0]! & 0xc0) !== 0x80) {
      this.malformed++;
      return;
    }
    const b1 = msg[1]!;
    if (b1 >= 192 && b1 <= 223) {
      // RTCP on the RTP port (rtcp-mux): RTCP packet types 192-223 (RFC 5761 §4).
      if (this.acceptRtpSource(rinfo)) this.relayRtcp(msg, rinfo, this.local.rtpPort);
      return;
    }
    if (len < 12) {
      this.malformed++;
      return;
    }
    if (!this.acceptRtpSource(rinfo)) return;
    this.rtpSeen = true;
    const ssrc = ((msg[8]! << 24) | (msg[9]! << 16) | (msg[10]! << 8) | msg[11]!) >>> 0;
    this.loss.record(ssrc, (msg[2]! << 8) | msg[3]!);
    this.jitter.record(performance.now(), ssrc, ((msg[4]! << 24) | (msg[5]! << 16) | (msg[6]! << 8) | msg[7]!) >>> 0, this.clockRate);
    const peer = this.peer;
    if (peer.rtpDestPort === 0) {
      this.unroutable++;
      return;
    }
    this.packetsIn++;
    this.bytesIn += len;
    if (this.transcoder !== null) {
      this.transcoder.push(msg);
      return;
    }
    this.rewriter.apply(msg);
    peer.rtp.send(msg, peer.rtpDestPort, peer.rtpDestAddress);
    peer.packetsOut++;
    peer.bytesOut += len;
  };

  /** Sends an RTP packet the box made (a transcoder's output) to this leg's party. */
  readonly sendRtp = (packet: Buffer): void => {
    if (this.rtpDestPort === 0) return;
    this.rtp.send(packet, this.rtpDestPort, this.rtpDestAddress);
    this.packetsOut++;
    this.bytesOut += packet.length;
  };

  private readonly onRtcpPort = (msg: Buffer, rinfo: RemoteInfo): void => {
    const b1 = msg[1]!;
    if (msg.length < 8 || (msg[0]! & 0xc0) !== 0x80 || b1 < 192 || b1 > 223) {
      this.malformed++;
      return;
    }
    if (this.rtcpLatched) {
      if (rinfo.port !== this.rtcpDestPort || rinfo.address !== this.rtcpDestAddress) {
        this.unexpectedSource++;
        return;
      }
    } else {
      this.rtcpLatched = true;
      this.rtcpDestAddress = rinfo.address;
      this.rtcpDestPort = rinfo.port;
    }
    this.relayRtcp(msg, rinfo, this.local.rtcpPort);
  };

  private readonly onSocketError = (err: Error): void => {
    this.logger.debug({ leg: this.name, err: err.message }, 'media socket error');
  };

  /** Source check for the RTP port; the first source latches (RFC 4961 symmetric RTP). */
  private acceptRtpSource(rinfo: RemoteInfo): boolean {
    if (this.rtpLatched) {
      if (rinfo.port === this.rtpDestPort && rinfo.address === this.rtpDestAddress) return true;
      this.unexpectedSource++;
      return false;
    }
    this.rtpLatched = true;
    this.rtpDestAddress = rinfo.address;
    this.rtpDestPort = rinfo.port;
    this.latchedTo = rinfo.family === 'IPv6' ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
    this.logger.debug({ leg: this.name, latchedTo: this.latchedTo }, 'rtp latched');
    return true;
  }

  /** RTCP from this leg's party to the peer's party: RTCP port, or the RTP port under rtcp-mux. */
  private relayRtcp(msg: Buffer, rinfo: RemoteInfo, localPort: number): void {
    if (this.onRtcp !== null) this.onRtcp(msg, rinfo.address, rinfo.port, this.local.address, localPort);
    const peer = this.peer;
    const socket = peer.rtcpMux ? peer.rtp : peer.rtcp;
    const port = peer.rtcpMux ? peer.rtpDestPort : peer.rtcpDestPort;
    const address = peer.rtcpMux ? peer.rtpDestAddress : peer.rtcpDestAddress;
    if (port === 0) {
      this.unroutable++;
      return;
    }
    this.rtcpIn++;
    // Transcoded legs are two streams: the party's reports describe a stream the other party
    // never sees, so they stop here (the box sends no reports of its own).
    if (this.transcoder !== null) return;
    rewriteRtcp(msg, this.rewriter, peer.rewriter);
    socket.send(msg, port, address);
    peer.rtcpOut++;
  }
}

/** The clock rate of the first codec other than telephone-event in an rtpmap list; 8000 when none says. */
function audioClockRate(payloadTypes: ReadonlyMap<number, string>): number {
  for (const name of payloadTypes.values()) {
    if (name.toLowerCase().startsWith('telephone-event')) continue;
    const rate = Number(name.split('/')[1]);
    if (rate > 0) return rate;
  }
  return 8000;
}
