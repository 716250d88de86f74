/**
 * What one party's SDP tells the relay (agent/media/relay-types.ts RemoteMedia): where to send
 * the audio stream's RTP and RTCP, which payload types it uses, and whether the party sends.
 *
 * - address: the stream's c= (media level, else session level); 0.0.0.0 when it has none.
 * - rtcpPort: a=rtcp (RFC 3605 §2.1), else rtpPort + 1 (RFC 3550 §11); 0 for a disabled stream.
 * - rtcpMux: a=rtcp-mux in this SDP. Multiplexing is in effect on a leg only when offer and
 *   answer both carry it (RFC 5761 §5.1.1); the call code combines the two with negotiatedMux.
 * - sending: the party is expected to send RTP all the time: sendrecv, a port other than 0, and
 *   not the RFC 2543 hold address. A party that holds (sendonly, inactive, c=0.0.0.0: RFC 3264
 *   §8.4) and the held party (recvonly) are not "sending", as RemoteMedia.sending says: the
 *   relay's media timeout counts only sending parties, and must not end a call on hold when the
 *   holder sends no music. Whatever a holder does send is still relayed.
 */
import type { RemoteMedia } from '../../media/relay-types.ts';
import { payloadTypesOf } from './payload-types.ts';
import { isNullAddress, type Direction, type SessionDescription } from './session-description.ts';

/** RemoteMedia plus what the call code needs for hold and packetisation. */
export interface AudioMedia extends RemoteMedia {
  /** Index of the m= line (same index in offer and answer). */
  index: number;
  /** Direction as written by the party (RFC 3264 §5.1). */
  direction: Direction;
  /** a=ptime in milliseconds (RFC 4566 §6), when given. */
  ptime: number | undefined;
}

/** The audio stream the relay carries (sdp.audioIndex), as the relay wants it. */
export function audioOf(sdp: SessionDescription): AudioMedia {
  const stream = sdp.streams[sdp.audioIndex]!;
  const media = sdp.tree.media[sdp.audioIndex]!;
  const rtpPort = stream.port;
  const address = stream.address === '' ? '0.0.0.0' : stream.address;
  const rtcp = media.rtcp?.port;
  const rtcpPort = rtpPort === 0 ? 0 : typeof rtcp === 'number' ? rtcp : rtpPort + 1;
  // RFC 5761 and RFC 4566 put a=rtcp-mux and a=ptime at media level; session level is tolerated.
  const session = sdp.tree as { rtcpMux?: string; ptime?: number };
  const rtcpMux = media.rtcpMux !== undefined || session.rtcpMux !== undefined;
  return {
    address,
    rtpPort,
    rtcpPort,
    rtcpMux,
    payloadTypes: payloadTypesOf(media, stream.formats),
    sending: stream.direction === 'sendrecv' && rtpPort !== 0 && !isNullAddress(address),
    index: stream.index,
    direction: stream.direction,
    ptime: ptimeOf(media.ptime ?? session.ptime),
  };
}

/** RTCP multiplexing is used on a leg when both its offer and its answer ask for it. */
export function negotiatedMux(offer: SessionDescription, answer: SessionDescription): boolean {
  return audioOf(offer).rtcpMux && audioOf(answer).rtcpMux;
}

function ptimeOf(value: unknown): number | undefined {
  const ms = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
