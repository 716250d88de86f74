/**
 * The codecs the box can transcode (native/codec through agent/media/codec) as they appear in
 * SDP: encoding name and clock rate for a=rtpmap (RFC 4566 §6), the static payload type where
 * RFC 3551 §6 has one, and the fmtp the box offers with them.
 */

export interface BoxCodec {
  /** Native codec name, as in the codec library and in preference lists. */
  readonly name: string;
  /** a=rtpmap encoding: name/clock[/channels]. */
  readonly encoding: string;
  /** RTP timestamp clock rate. */
  readonly clockRate: number;
  /** RFC 3551 static payload type; undefined for codecs that take a dynamic number. */
  readonly staticPayloadType: number | undefined;
  /** a=fmtp the box offers with the codec, if any. */
  readonly fmtp: string | undefined;
}

const CODECS: readonly BoxCodec[] = [
  { name: 'PCMU', encoding: 'PCMU/8000', clockRate: 8000, staticPayloadType: 0, fmtp: undefined },
  { name: 'PCMA', encoding: 'PCMA/8000', clockRate: 8000, staticPayloadType: 8, fmtp: undefined },
  // G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
  { name: 'G722', encoding: 'G722/8000', clockRate: 8000, staticPayloadType: 9, fmtp: undefined },
  // The box's G.729 sends no Annex B silence frames (RFC 4856 §2.1.9: annexb defaults to yes).
  { name: 'G729', encoding: 'G729/8000', clockRate: 8000, staticPayloadType: 18, fmtp: 'annexb=no' },
  // RFC 7587 §7: opus is always written opus/48000/2, whatever the real channels and rate.
  { name: 'opus', encoding: 'opus/48000/2', clockRate: 48000, staticPayloadType: undefined, fmtp: 'useinbandfec=1' },
];

const BY_NAME = new Map(CODECS.map((c) => [c.name, c]));

/** The box codec with this native name. */
export function boxCodec(name: string): BoxCodec | undefined {
  return BY_NAME.get(name);
}

/** The box codec an SDP encoding name ('pcma/8000', 'opus/48000/2') denotes, if any. */
export function boxCodecOfEncoding(encoding: string): BoxCodec | undefined {
  const [name = '', rate = '', channels] = encoding.toLowerCase().split('/');
  for (const c of CODECS) {
    const [cn, cr, cc] = c.encoding.toLowerCase().split('/');
    if (cn === name && cr === rate && (c.name === 'opus' || (channels ?? '1') === (cc ?? '1'))) return c;
  }
  return undefined;
}

/** RFC 4733 telephone-event at some clock rate, or undefined for any other encoding. */
export function telephoneEventRate(encoding: string): number | undefined {
  const [name = '', rate = ''] = encoding.toLowerCase().split('/');
  if (name !== 'telephone-event') return undefined;
  const hz = Number(rate);
  return Number.isInteger(hz) && hz > 0 ? hz : undefined;
}

/** Comfort noise (RFC 3389), which carries no audio to transcode. */
export function isComfortNoise(encoding: string): boolean {
  return encoding.toLowerCase().startsWith('cn/');
}
