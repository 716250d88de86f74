import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { write } from 'sdp-transform';
import { checkAnswer } from './answer-check.ts';
import { planAnswer, planOffer, type CodecPreferences } from './codec-plan.ts';
import { audioOf } from './media-description.ts';
import { mustParse, sdpFixture, sdpOf } from './test-support.ts';

const ALL: readonly string[] = ['opus', 'G722', 'PCMA', 'PCMU', 'G729'];
const prefs = (offerer = ALL, answerer = ALL): CodecPreferences => ({ offerer, answerer });

function offerOf(formats: string, ...attrs: string[]) {
  return mustParse(sdpOf('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 4000 RTP/AVP ${formats}`, ...attrs));
}
const answerOf = offerOf;
const names = (sdp: ReturnType<typeof offerOf>) => [...audioOf(sdp).payloadTypes.values()];

test('a G.711-only offer gets the other codecs appended after its own, with telephone-event per new clock rate', () => {
  const offer = offerOf('8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16');
  const plan = planOffer(offer, prefs());
  assert.equal(names(plan.forwarded), [
    'PCMA/8000', 'telephone-event/8000', 'opus/48000/2', 'G722/8000', 'PCMU/8000', 'G729/8000', 'telephone-event/48000',
  ]);
  assert.equal(audioOf(plan.forwarded).payloadTypes.get(0), 'PCMU/8000', 'static numbers where free');
  assert.equal(plan.offererCodec?.codec.name, 'PCMA');
  assert.equal(plan.added.size, 4);
  assert.equal(plan.addedEvents.size, 1);
  const m = plan.forwarded.tree.media[0]!;
  assert.ok(m.fmtp?.some((f) => f.config === 'useinbandfec=1'), 'opus offered with FEC');
  assert.ok(m.fmtp?.some((f) => f.config === 'annexb=no'), 'G.729 without Annex B');
  assert.equal(names(offer), ['PCMA/8000', 'telephone-event/8000'], 'the original is not changed');
});

test('the answerer picking one of the offerer\'s codecs is relayed; added formats leave the answer', () => {
  const offer = offerOf('0 8', 'a=rtpmap:0 PCMU/8000');
  const plan = planOffer(offer, prefs());
  const answer = answerOf('8 96', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 opus/48000/2');
  const result = planAnswer(plan, answer);
  assert.is(result.transcode, null);
  assert.equal(names(result.forwarded), ['PCMA/8000']);
  assert.ok(checkAnswer(offer, result.forwarded).ok, 'a valid answer to the original offer');
});

test('the answerer picking an added codec means transcoding; the offerer is answered with its own codec', () => {
  const offer = offerOf('8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=ptime:30');
  const plan = planOffer(offer, prefs(['PCMU', 'PCMA'], ['opus']));
  assert.equal(names(plan.forwarded).slice(3), ['opus/48000/2', 'telephone-event/48000']);
  const answer = answerOf('111 112', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:112 telephone-event/48000', 'a=ptime:20');
  const result = planAnswer(plan, answer);
  assert.ok(result.transcode);
  assert.equal(result.transcode.offerer, { payloadType: 0, codec: 'PCMU', ptime: 30, telephoneEvent: { payloadType: 101, clockRate: 8000 } }, 'offerer preference PCMU over PCMA');
  assert.equal(result.transcode.answerer, { payloadType: 111, codec: 'opus', ptime: 20, telephoneEvent: { payloadType: 112, clockRate: 48000 } });
  assert.equal(names(result.forwarded), ['PCMU/8000', 'telephone-event/8000']);
  assert.is(audioOf(result.forwarded).ptime, 30);
  assert.ok(checkAnswer(offer, result.forwarded).ok, 'a valid answer to the original offer');
  assert.ok(checkAnswer(plan.forwarded, answer).ok, 'the callee answered the forwarded offer validly');
});

test('no telephone-event in the answer: none in the answer to the offerer, none in the plan', () => {
  const offer = offerOf('8 101', 'a=rtpmap:101 telephone-event/8000');
  const plan = planOffer(offer, prefs(ALL, ['G722']));
  const result = planAnswer(plan, answerOf('9'));
  assert.is(result.transcode?.answerer.codec, 'G722');
  assert.is(result.transcode?.offerer.telephoneEvent, null);
  assert.is(result.transcode?.answerer.telephoneEvent, null);
  assert.equal(names(result.forwarded), ['PCMA/8000']);
});

test('nothing is added when the offerer has no codec the box can decode, or preferences exclude them', () => {
  const gsm = offerOf('3');
  assert.is(planOffer(gsm, prefs()).forwarded, gsm);
  const pcma = offerOf('8');
  assert.is(planOffer(pcma, prefs(['opus'])).forwarded, pcma, 'the offerer may not use PCMA for transcoding');
  assert.is(planOffer(pcma, prefs(ALL, ['PCMA'])).forwarded, pcma, 'the answerer wants nothing new');
  assert.is(planAnswer(planOffer(pcma, prefs(ALL, ['PCMA'])), answerOf('8')).transcode, null);
});

test('disabled streams are left alone', () => {
  const held = offerOf('8');
  const disabled = mustParse(String(sdpOf('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 0 RTP/AVP 8')));
  assert.is(planOffer(disabled, prefs()).added.size, 0);
  assert.ok(planOffer(held, prefs()).added.size > 0);
});

test('real phone offers: every added number is free and the forwarded offer parses back', () => {
  for (const name of ['sipp-default', 'baresip-rtcp-mux', 'baresip-video', 'linphone-ice'] as const) {
    const offer = mustParse(sdpFixture(name));
    const plan = planOffer(offer, prefs());
    const before = new Set(offer.streams[offer.audioIndex]!.formats.map(Number));
    for (const pt of [...plan.added.keys(), ...plan.addedEvents]) assert.not.ok(before.has(pt), `${name}: ${pt} was taken`);
    assert.ok(plan.added.size > 0, name);
    const again = audioOf(mustParse(write(plan.forwarded.tree)));
    assert.equal([...again.payloadTypes].slice(0, audioOf(offer).payloadTypes.size), [...audioOf(offer).payloadTypes], `${name}: own formats first`);
    for (const [pt, c] of plan.added) assert.is(again.payloadTypes.get(pt), c.encoding, name);
  }
});

test.run();
