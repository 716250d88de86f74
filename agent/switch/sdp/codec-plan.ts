/**
 * Codec negotiation across the B2BUA (DESIGN.md §8), one offer/answer exchange at a time.
 *
 * planOffer: the offer goes to the other party with the offerer's own formats first, unchanged
 * and in the offerer's order, so a codec both share is always preferred (relayed without
 * decoding). After them the box appends the codecs it could transcode to, in the answerer's
 * preference order, and telephone-event at their clock rates when the offerer has
 * telephone-event. Nothing is added when the offerer has no codec the box can decode (within
 * the offerer's own preferences): then there is nothing to transcode from.
 *
 * planAnswer: when the answerer picked one of the offerer's formats, the answer goes back with
 * the added formats removed, and the relay copies packets. When it picked an added codec, the
 * offerer gets an answer naming its own codec (its first preference among what it offered) and
 * the relay transcodes between the two.
 */
import type { MediaDescription } from 'sdp-transform';
import type { LegCodec } from '../../media/relay-types.ts';
import { boxCodec, boxCodecOfEncoding, isComfortNoise, telephoneEventRate, type BoxCodec } from './box-codecs.ts';
import { audioOf } from './media-description.ts';
import { payloadTypesOf } from './payload-types.ts';
import type { SdpStream, SessionDescription } from './session-description.ts';

export interface CodecPreferences {
  /** The offerer's codecs in preference order (native names; only those the box has). */
  offerer: readonly string[];
  /** The answerer's codecs in preference order. */
  answerer: readonly string[];
}

export interface OfferPlan {
  readonly offer: SessionDescription;
  /** The offer for the answerer (before rewriteForRelay): the offerer's SDP plus added codecs. */
  readonly forwarded: SessionDescription;
  /** Payload types the box added, to their box codec (reachable only by transcoding). */
  readonly added: ReadonlyMap<number, BoxCodec>;
  /** telephone-event payload types the box added. */
  readonly addedEvents: ReadonlySet<number>;
  /** The offerer's codec for transcoding: its first preference that it offered. */
  readonly offererCodec: { payloadType: number; codec: BoxCodec } | null;
}

export interface AnswerPlan {
  /** The answer for the offerer (before rewriteForRelay). */
  readonly forwarded: SessionDescription;
  /** null: both legs use the same codec. Else the codec of each side. */
  readonly transcode: { offerer: LegCodec; answerer: LegCodec } | null;
}

const DEFAULT_PTIME = 20;
const PTIMES = new Set([10, 20, 30, 40, 60]);

export function planOffer(offer: SessionDescription, prefs: CodecPreferences): OfferPlan {
  const none: OfferPlan = { offer, forwarded: offer, added: new Map(), addedEvents: new Set(), offererCodec: null };
  const stream = offer.streams[offer.audioIndex]!;
  if (stream.port === 0 || !stream.plainRtp) return none;
  const media = offer.tree.media[offer.audioIndex]!;
  const offered = payloadTypesOf(media, stream.formats);
  const offeredCodecs = new Map<string, number>();
  const offeredEventRates = new Set<number>();
  for (const [pt, name] of offered) {
    const c = boxCodecOfEncoding(name);
    if (c && !offeredCodecs.has(c.name)) offeredCodecs.set(c.name, pt);
    const rate = telephoneEventRate(name);
    if (rate !== undefined) offeredEventRates.add(rate);
  }
  const first = prefs.offerer.find((name) => offeredCodecs.has(name));
  if (first === undefined) return none;
  const offererCodec = { payloadType: offeredCodecs.get(first)!, codec: boxCodec(first)! };

  const used = new Set(stream.formats.map(Number));
  const added = new Map<number, BoxCodec>();
  const addedEvents = new Set<number>();
  const tree = structuredClone(offer.tree);
  const m = tree.media[offer.audioIndex]!;
  const formats = [...stream.formats];
  for (const name of prefs.answerer) {
    const c = boxCodec(name);
    if (!c || offeredCodecs.has(name)) continue;
    const pt = c.staticPayloadType !== undefined && !used.has(c.staticPayloadType) ? c.staticPayloadType : freeDynamic(used);
    if (pt === undefined) break;
    used.add(pt);
    added.set(pt, c);
    addFormat(m, formats, pt, c.encoding, c.fmtp);
  }
  if (offeredEventRates.size > 0) {
    for (const c of added.values()) {
      if (offeredEventRates.has(c.clockRate)) continue;
      const pt = freeDynamic(used);
      if (pt === undefined) break;
      used.add(pt);
      offeredEventRates.add(c.clockRate);
      addedEvents.add(pt);
      addFormat(m, formats, pt, `telephone-event/${c.clockRate}`, '0-16');
    }
  }
  if (added.size === 0) return { ...none, offererCodec };
  return { offer, forwarded: withFormats(offer, tree, formats), added, addedEvents, offererCodec };
}

export function planAnswer(plan: OfferPlan, answer: SessionDescription): AnswerPlan {
  const stream = answer.streams[plan.offer.audioIndex];
  const media = answer.tree.media[plan.offer.audioIndex];
  if (!stream || !media || plan.added.size === 0) return { forwarded: answer, transcode: null };
  const answered = payloadTypesOf(media, stream.formats);
  const chosen = [...answered].find(([, name]) => telephoneEventRate(name) === undefined && !isComfortNoise(name));
  const chosenCodec = chosen ? boxCodecOfEncoding(chosen[1]) : undefined;
  const isAdded = chosenCodec !== undefined && [...plan.added.values()].includes(chosenCodec);
  if (stream.port === 0 || !isAdded || !plan.offererCodec) {
    return { forwarded: withoutAdded(plan, answer), transcode: null };
  }

  const offerStream = plan.offer.streams[plan.offer.audioIndex]!;
  const offerMedia = plan.offer.tree.media[plan.offer.audioIndex]!;
  const offered = payloadTypesOf(offerMedia, offerStream.formats);
  const answerEvent = [...answered].find(([, name]) => telephoneEventRate(name) !== undefined);
  const offerEvent = answerEvent ? pickEvent(offered, plan.offererCodec.codec.clockRate) : undefined;

  const tree = structuredClone(answer.tree);
  const m = tree.media[plan.offer.audioIndex]!;
  const formats = [String(plan.offererCodec.payloadType)];
  if (offerEvent) formats.push(String(offerEvent[0]));
  const keep = new Set(formats.map(Number));
  m.rtp = (offerMedia.rtp ?? []).filter((r) => keep.has(Number(r.payload))).map((r) => ({ ...r }));
  m.fmtp = (offerMedia.fmtp ?? []).filter((f) => keep.has(Number(f.payload))).map((f) => ({ ...f }));
  delete m.rtcpFb;
  delete m.maxptime;
  const offerPtime = framePtime(audioOf(plan.offer).ptime);
  if (offerPtime !== undefined) m.ptime = offerPtime;
  else delete m.ptime;

  return {
    forwarded: withFormats(answer, tree, formats),
    transcode: {
      offerer: {
        payloadType: plan.offererCodec.payloadType,
        codec: plan.offererCodec.codec.name,
        ptime: offerPtime ?? DEFAULT_PTIME,
        telephoneEvent: offerEvent ? { payloadType: offerEvent[0], clockRate: telephoneEventRate(offerEvent[1])! } : null,
      },
      answerer: {
        payloadType: chosen![0],
        codec: chosenCodec.name,
        ptime: framePtime(audioOf(answer).ptime) ?? DEFAULT_PTIME,
        telephoneEvent: answerEvent ? { payloadType: answerEvent[0], clockRate: telephoneEventRate(answerEvent[1])! } : null,
      },
    },
  };
}

/** The offerer's telephone-event: the one at its codec's clock rate, else its first one. */
function pickEvent(offered: ReadonlyMap<number, string>, clockRate: number): [number, string] | undefined {
  const events = [...offered].filter(([, name]) => telephoneEventRate(name) !== undefined);
  return events.find(([, name]) => telephoneEventRate(name) === clockRate) ?? events[0];
}

/** The answer without the formats the box added (the offerer never offered them). */
function withoutAdded(plan: OfferPlan, answer: SessionDescription): SessionDescription {
  const stream = answer.streams[plan.offer.audioIndex]!;
  const drop = (pt: number) => plan.added.has(pt) || plan.addedEvents.has(pt);
  const formats = stream.formats.filter((f) => !drop(Number(f)));
  if (formats.length === stream.formats.length || formats.length === 0) return answer;
  const tree = structuredClone(answer.tree);
  const m = tree.media[plan.offer.audioIndex]!;
  m.rtp = (m.rtp ?? []).filter((r) => !drop(Number(r.payload)));
  m.fmtp = (m.fmtp ?? []).filter((f) => !drop(Number(f.payload)));
  if (m.rtcpFb) m.rtcpFb = m.rtcpFb.filter((f) => !drop(Number(f.payload)));
  return withFormats(answer, tree, formats);
}

function addFormat(m: MediaDescription, formats: string[], pt: number, encoding: string, fmtp: string | undefined): void {
  const [codec = '', rate, channels] = encoding.split('/');
  formats.push(String(pt));
  m.rtp = [...(m.rtp ?? []), { payload: pt, codec, rate: Number(rate), ...(channels ? { encoding: Number(channels) } : {}) }];
  if (fmtp) m.fmtp = [...(m.fmtp ?? []), { payload: pt, config: fmtp }];
}

/** A copy of `sdp` whose audio stream has `tree` and the format list `formats`. */
function withFormats(sdp: SessionDescription, tree: SessionDescription['tree'], formats: string[]): SessionDescription {
  tree.media[sdp.audioIndex]!.payloads = formats.join(' ');
  const streams: SdpStream[] = sdp.streams.map((s, i) => (i === sdp.audioIndex ? { ...s, formats } : s));
  return { origin: sdp.origin, streams, audioIndex: sdp.audioIndex, tree };
}

function freeDynamic(used: ReadonlySet<number>): number | undefined {
  for (let pt = 96; pt <= 127; pt++) if (!used.has(pt)) return pt;
  return undefined;
}

/** A party's a=ptime (audioOf reads it) when it is a packet length the box sends. */
function framePtime(ms: number | undefined): number | undefined {
  return ms !== undefined && PTIMES.has(ms) ? ms : undefined;
}
