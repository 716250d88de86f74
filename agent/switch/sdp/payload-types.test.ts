import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'sdp-transform';
import { payloadTypesOf, sameEncoding, STATIC_PAYLOAD_TYPES } from './payload-types.ts';

const Of = suite('payloadTypesOf');

Of('rtpmap names first, static names for the rest, m= order, unnamed dynamic left out', () => {
  const m = parse('v=0\r\nm=audio 4000 RTP/AVP 96 0 18 97 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:55 X/8000\r\n').media[0]!;
  assert.equal([...payloadTypesOf(m, ['96', '0', '18', '97', '101'])], [[96, 'opus/48000/2'], [0, 'PCMU/8000'], [18, 'G729/8000'], [101, 'telephone-event/8000']]);
});

Of('an rtpmap without clock rate gives the bare name', () => {
  const m = parse('v=0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 foo\r\n').media[0]!;
  assert.equal([...payloadTypesOf(m, ['96'])], [[96, 'foo']]);
});

Of('the static table has the RFC 3551 audio types the brief names', () => {
  assert.equal([0, 8, 9, 18, 3, 13].map((pt) => STATIC_PAYLOAD_TYPES.get(pt)), ['PCMU/8000', 'PCMA/8000', 'G722/8000', 'G729/8000', 'GSM/8000', 'CN/8000']);
});

Of.run();

const Same = suite('sameEncoding');

Same('case-insensitive names, same clock rate, channel count 1 by default', () => {
  assert.ok(sameEncoding('PCMU/8000', 'pcmu/8000'));
  assert.ok(sameEncoding('PCMU/8000', 'PCMU/8000/1'));
  assert.ok(sameEncoding('opus/48000/2', 'OPUS/48000/2'));
  assert.not.ok(sameEncoding('opus/48000/2', 'opus/48000'));
  assert.not.ok(sameEncoding('telephone-event/8000', 'telephone-event/48000'));
  assert.not.ok(sameEncoding('PCMU/8000', 'PCMA/8000'));
});

Same.run();
