import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkAnswer, holdState } from './answer-check.ts';
import { audioOf } from './media-description.ts';
import { OriginState } from './origin-state.ts';
import { rewriteForRelay } from './rewrite-for-relay.ts';
import { mustParse, sdpFixture, sdpOf } from './test-support.ts';

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0'];
const ANSWER_HEAD = ['v=0', 'o=- 7 7 IN IP4 192.0.2.80', 's=-', 'c=IN IP4 192.0.2.80', 't=0 0'];

function problems(offer: string, answer: string): string[] {
  const r = checkAnswer(mustParse(offer), mustParse(answer));
  return r.ok ? [] : r.problems.map((p) => `${p.stream ?? '-'}: ${p.reason}`);
}

const Check = suite('checkAnswer');

Check('sipp answers its own default offer: ok', () => {
  const body = sdpFixture('sipp-default');
  assert.equal(checkAnswer(mustParse(body), mustParse(body)), { ok: true });
});

Check('a subset of the offered codecs, same numbers: ok', () => {
  const offer = sdpFixture('baresip-rtcp-mux').toString();
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15')), []);
});

Check('another payload type number for an offered encoding: ok (RFC 3264 §6.1 SHOULD)', () => {
  const offer = sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000');
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0 96', 'a=rtpmap:96 TELEPHONE-EVENT/8000')), []);
});

Check('formats the offer did not have are reported', () => {
  const offer = sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000');
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 8')), ['0: format PCMA/8000 is not in the offer']);
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/48000')), ['0: format telephone-event/48000 is not in the offer']);
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0 97')), ['0: payload type 97 is not in the offer']);
});

Check('the m= line count and media types must match the offer', () => {
  const offer = sdpFixture('baresip-video').toString();
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0')), ['-: answer has 1 m= lines, offer 2']);
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0', 'm=audio 0 RTP/AVP 0')), ['1: answer has audio where the offer has video']);
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0', 'm=video 0 RTP/AVP 96')), []);
});

Check('a stream offered with port 0 must be answered with port 0', () => {
  const offer = sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'm=video 0 RTP/AVP 31');
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0', 'm=video 5002 RTP/AVP 31')), ['1: stream offered with port 0 is accepted']);
});

Check('the transport of an accepted stream must stay', () => {
  const offer = sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0');
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVPF 0')), ['0: transport RTP/AVPF differs from offered RTP/AVP']);
});

Check('directions per RFC 3264 §6.1', () => {
  const pairs: Array<[string, string, boolean]> = [
    ['sendrecv', 'sendrecv', true], ['sendrecv', 'recvonly', true], ['sendrecv', 'inactive', true],
    ['sendonly', 'recvonly', true], ['sendonly', 'inactive', true], ['sendonly', 'sendrecv', false], ['sendonly', 'sendonly', false],
    ['recvonly', 'sendonly', true], ['recvonly', 'sendrecv', false], ['inactive', 'inactive', true], ['inactive', 'recvonly', false],
  ];
  for (const [o, a, ok] of pairs) {
    const found = problems(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', `a=${o}`), sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 0', `a=${a}`));
    assert.equal(found, ok ? [] : [`0: direction ${a} answers ${o}`], `${o} -> ${a}`);
  }
});

Check('a rejected stream (port 0) is not checked further', () => {
  const offer = sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'a=sendonly');
  assert.equal(problems(offer, sdpOf(...ANSWER_HEAD, 'm=audio 0 RTP/AVP 8')), []);
});

Check('B2BUA flow: offer rewritten for the callee, its answer checked, rewritten for the caller, checked again', () => {
  const callerOffer = mustParse(sdpFixture('linphone-ice'));
  const legA = new OriginState({ sessionId: '1' });
  const legB = new OriginState({ sessionId: '2' });
  const offerToB = mustParse(rewriteForRelay(callerOffer, { address: '198.51.100.1', rtpPort: 40002, rtcpPort: 40003 }, legB));
  const calleeAnswer = mustParse(sdpOf(...ANSWER_HEAD, 'm=audio 5000 RTP/AVP 18 100', 'a=rtpmap:100 telephone-event/8000', 'a=fmtp:18 annexb=no', 'm=video 0 RTP/AVP 96'));
  assert.equal(checkAnswer(offerToB, calleeAnswer), { ok: true });
  const answerToA = mustParse(rewriteForRelay(calleeAnswer, { address: '198.51.100.1', rtpPort: 40000, rtcpPort: 40001 }, legA));
  assert.equal(checkAnswer(callerOffer, answerToA), { ok: true });
  assert.equal([audioOf(answerToA).address, audioOf(answerToA).rtpPort, answerToA.streams[1]!.port], ['198.51.100.1', 40000, 0]);
  assert.equal([...audioOf(answerToA).payloadTypes], [[18, 'G729/8000'], [100, 'telephone-event/8000']]);
});

Check.run();

const Hold = suite('holdState');

Hold('sendonly, inactive and c=0.0.0.0 hold; sendrecv and recvonly do not (RFC 3264 §8.4)', () => {
  assert.equal(
    [holdState('sendrecv'), holdState('recvonly'), holdState('sendonly'), holdState('inactive')],
    ['active', 'active', 'on-hold', 'on-hold'],
  );
  assert.equal([holdState('sendrecv', '0.0.0.0'), holdState('recvonly', '::'), holdState('sendrecv', '192.0.2.1')], ['on-hold', 'on-hold', 'active']);
});

Hold('reads a parsed stream: the Cisco re-INVITE is a hold, baresip offer is not', () => {
  const hold = audioOf(mustParse(sdpFixture('cisco-old-hold')));
  const active = audioOf(mustParse(sdpFixture('baresip-rtcp-mux')));
  assert.equal([holdState(hold.direction, hold.address), holdState(active.direction, active.address)], ['on-hold', 'active']);
});

Hold.run();
