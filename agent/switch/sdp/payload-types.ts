/**
 * RTP payload type numbers and their encoding names. A format's name comes from its a=rtpmap
 * (RFC 4566 §6), else, for the static types, from the RFC 3551 §6 tables; a dynamic type
 * (96-127) without a=rtpmap has no name and is left out. Names keep the spelling of the SDP
 * ('PCMU/8000', 'telephone-event/8000', 'opus/48000/2'); compare them with sameEncoding, since
 * encoding names are case-insensitive and an audio channel count of 1 may be omitted
 * (RFC 4566 §6, RFC 4855 §3).
 */
import type { MediaDescription } from 'sdp-transform';

/** RFC 3551 Tables 4 and 5 (payload types with a fixed meaning), plus 13 CN (RFC 3389). */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'PCMU/8000'],
  [3, 'GSM/8000'],
  [4, 'G723/8000'],
  [5, 'DVI4/8000'],
  [6, 'DVI4/16000'],
  [7, 'LPC/8000'],
  [8, 'PCMA/8000'],
  [9, 'G722/8000'],
  [10, 'L16/44100/2'],
  [11, 'L16/44100'],
  [12, 'QCELP/8000'],
  [13, 'CN/8000'],
  [14, 'MPA/90000'],
  [15, 'G728/8000'],
  [16, 'DVI4/11025'],
  [17, 'DVI4/22050'],
  [18, 'G729/8000'],
  [25, 'CelB/90000'],
  [26, 'JPEG/90000'],
  [28, 'nv/90000'],
  [31, 'H261/90000'],
  [32, 'MPV/90000'],
  [33, 'MP2T/90000'],
  [34, 'H263/90000'],
]);

/** Payload type → encoding name for the formats of an RTP m= line, in m= (preference) order. */
export function payloadTypesOf(media: MediaDescription, formats: readonly string[]): Map<number, string> {
  const mapped = new Map<number, string>();
  for (const r of media.rtp ?? []) {
    const pt = Number(r.payload);
    // sdp-transform reads a numeric codec name ("a=rtpmap:96 729/8000") as a number.
    const codec = String(r.codec ?? '');
    if (!mapped.has(pt) && codec !== '') mapped.set(pt, encodingName(codec, r.rate, r.encoding));
  }
  const out = new Map<number, string>();
  for (const f of formats) {
    const pt = Number(f);
    const name = mapped.get(pt) ?? STATIC_PAYLOAD_TYPES.get(pt);
    if (name !== undefined && !out.has(pt)) out.set(pt, name);
  }
  return out;
}

/** True when two encoding names denote the same codec, clock rate and channel count. */
export function sameEncoding(a: string, b: string): boolean {
  const [an, ar, ac] = a.toLowerCase().split('/');
  const [bn, br, bc] = b.toLowerCase().split('/');
  return an === bn && ar === br && (ac ?? '1') === (bc ?? '1');
}

function encodingName(codec: string, rate: unknown, channels: unknown): string {
  // sdp-transform leaves a missing clock rate as undefined or ''.
  if (rate === undefined || rate === '') return codec;
  return channels === undefined || channels === '' ? `${codec}/${rate}` : `${codec}/${rate}/${channels}`;
}
