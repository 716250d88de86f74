/**
 * The seam between signalling and media (DESIGN.md §3, §8): the switch allocates a relay
 * session per call, tells it each leg's remote media from the SDP, and releases it when the call
 * ends. Nothing else of agent/media/ is visible to agent/switch/.
 *
 * Leg 'a' faces the caller, leg 'b' the callee. A packet that arrives on leg a's local port
 * (sent by the caller) leaves from leg b's local port towards the callee, and back.
 */

export type LegName = 'a' | 'b';

/** What one leg's SDP says about the far end's media (one audio stream). */
export interface RemoteMedia {
  /** Connection address from the SDP (c=); latching may replace it with the real source. */
  address: string;
  rtpPort: number;
  /** RTCP port (a=rtcp or rtpPort+1); ignored when rtcpMux. */
  rtcpPort: number;
  rtcpMux: boolean;
  /** Payload type number → encoding name as in a=rtpmap, e.g. 0 → 'PCMU/8000', 101 → 'telephone-event/8000'. */
  payloadTypes: ReadonlyMap<number, string>;
  /** False when the leg put the stream on hold (sendonly/inactive towards us) or port 0. */
  sending: boolean;
}

/** The relay's own address for one leg, to be written into the SDP sent to that leg's party. */
export interface LocalMedia {
  address: string;
  rtpPort: number;
  rtcpPort: number;
}

export interface LegStats {
  /** Packets and bytes received from this leg's party and relayed onwards. */
  packetsIn: number;
  bytesIn: number;
  /** Packets and bytes sent to this leg's party. */
  packetsOut: number;
  bytesOut: number;
  /** Packets from a source other than the latched one (dropped). */
  unexpectedSource: number;
  /** Packets lost from this leg's party, from RTP sequence gaps. */
  lost: number;
  rtcpIn: number;
  rtcpOut: number;
  /** Packets too short or not RTP/RTCP version 2 (dropped). */
  malformed: number;
  /** Packets that arrived before the other leg's remote was known (dropped). */
  unroutable: number;
  /** The latched source `ip:port`, once media arrived. */
  latchedTo: string | null;
  /** While transcoding: what became of this party's audio on its way to the other party. */
  transcoded?: TranscodeStats;
}

/** One direction of a transcoded call, named by the party that sends it. */
export interface TranscodeStats {
  /** Audio packets decoded. */
  decoded: number;
  /** Lost packets filled by concealment or FEC. */
  concealed: number;
  /** Of those, filled from opus in-band FEC. */
  recovered: number;
  /** Packets sent to the other party (audio and events). */
  sent: number;
  /** telephone-event packets re-timed and sent. */
  events: number;
  /** Packets dropped: undecodable payload, comfort noise, unknown payload type, events the other side cannot take. */
  dropped: number;
  /** Packets that came after their turn (reordered beyond the buffer, duplicates). */
  late: number;
}

/** The codec one leg's party and the box agreed on, when the two legs use different codecs. */
export interface LegCodec {
  /** Payload type of the audio codec on this leg. */
  payloadType: number;
  /** Native codec name (agent/media/codec): 'PCMA', 'PCMU', 'G722', 'opus', 'G729'. */
  codec: string;
  /** Packet duration the box sends to this party, in ms (a=ptime of the party's SDP, else 20). */
  ptime: number;
  /** RFC 4733 telephone-event on this leg, when both parties negotiated it. */
  telephoneEvent: { payloadType: number; clockRate: number } | null;
}

export interface RelaySession {
  readonly id: string;
  local(leg: LegName): LocalMedia;
  /** Sets or changes a leg's remote media (offer, answer, re-INVITE). Allowed at any time. */
  update(leg: LegName, remote: RemoteMedia): void;
  /**
   * Different codecs per leg: from now on audio is decoded, resampled and re-encoded, and
   * telephone-events re-timed, in both directions. null goes back to relaying packets unchanged.
   * Throws CodecError when a codec cannot be created (library missing or codec not built).
   */
  setTranscoding(codecs: Record<LegName, LegCodec> | null): void;
  stats(): Record<LegName, LegStats>;
  /** Frees the ports; idempotent. */
  release(): void;
}

export interface RelayCallbacks {
  /** No RTP from either sending party for the configured media timeout. */
  onMediaTimeout(session: RelaySession): void;
}

export interface MediaRelay {
  /** Allocates ports for both legs; throws MediaError('media.ports-exhausted') when none are free. */
  allocate(callId: string, callbacks: RelayCallbacks): Promise<RelaySession>;
  /** Sessions currently allocated. */
  readonly activeSessions: number;
  stop(): Promise<void>;
}
