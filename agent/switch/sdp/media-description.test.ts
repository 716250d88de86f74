import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audioOf, negotiatedMux } from './media-description.ts';
import { mustParse, sdpFixture, sdpOf } from './test-support.ts';

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0'];

const Audio = suite('audioOf');

Audio('sipp default body: RemoteMedia with RTCP on port + 1', () => {
  assert.equal(audioOf(mustParse(sdpFixture('sipp-default'))), {
    address: '127.0.0.1',
    rtpPort: 6004,
    rtcpPort: 6005,
    rtcpMux: false,
    payloadTypes: new Map([[0, 'PCMU/8000']]),
    sending: true,
    index: 0,
    direction: 'sendrecv',
    ptime: undefined,
  });
});

Audio('baresip: rtcp-mux, ptime, payload types in preference order', () => {
  const a = audioOf(mustParse(sdpFixture('baresip-rtcp-mux')));
  assert.equal([a.address, a.rtpPort, a.rtcpMux, a.ptime, a.sending], ['192.0.2.2', 10068, true, 20, true]);
  assert.equal([...a.payloadTypes], [[0, 'PCMU/8000'], [8, 'PCMA/8000'], [96, 'opus/48000/2'], [9, 'G722/8000'], [101, 'telephone-event/8000']]);
});

Audio('linphone: a=rtcp port, static PT 18 without rtpmap, several telephone-event rates', () => {
  const a = audioOf(mustParse(sdpFixture('linphone-ice')));
  assert.equal([a.rtpPort, a.rtcpPort], [7078, 7079]);
  assert.is(a.payloadTypes.get(18), 'G729/8000');
  assert.equal([a.payloadTypes.get(101), a.payloadTypes.get(99), a.payloadTypes.get(100)], ['telephone-event/48000', 'telephone-event/16000', 'telephone-event/8000']);
  assert.is(a.payloadTypes.size, 9);
});

Audio('a=rtcp with its own port and address (RFC 3605) gives the RTCP port', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'a=rtcp:53020 IN IP4 192.0.2.10')));
  assert.equal([a.rtpPort, a.rtcpPort], [4000, 53020]);
});

Audio('static payload types without rtpmap get their RFC 3551 names; unnamed dynamic ones are left out', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 8 9 18 3 13 4 96 97', 'a=rtpmap:97 telephone-event/8000')));
  assert.equal([...a.payloadTypes], [
    [0, 'PCMU/8000'], [8, 'PCMA/8000'], [9, 'G722/8000'], [18, 'G729/8000'], [3, 'GSM/8000'], [13, 'CN/8000'], [4, 'G723/8000'], [97, 'telephone-event/8000'],
  ]);
});

Audio('an rtpmap overrides the static name and keeps its spelling', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 8', 'a=rtpmap:0 pcmu/8000/1')));
  assert.equal([...a.payloadTypes], [[0, 'pcmu/8000/1'], [8, 'PCMA/8000']]);
});

Audio('IPv6 address', () => {
  const a = audioOf(mustParse(sdpFixture('baresip-ipv6')));
  assert.equal([a.address, a.rtpPort, a.rtcpPort], ['fd00::2', 21952, 21953]);
});

Audio('sending: only sendrecv; a holder (sendonly, inactive) and a held party (recvonly) are not', () => {
  const sending = (dir: string) => audioOf(mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', `a=${dir}`))).sending;
  assert.equal(['sendrecv', 'sendonly', 'recvonly', 'inactive'].map(sending), [true, false, false, false]);
});

Audio('session-level direction applies when the stream has none', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'a=recvonly', 'm=audio 4000 RTP/AVP 0')));
  assert.equal([a.direction, a.sending], ['recvonly', false]);
});

Audio('old-style hold c=0.0.0.0: not sending, direction untouched', () => {
  const a = audioOf(mustParse(sdpFixture('cisco-old-hold')));
  assert.equal([a.address, a.direction, a.sending, a.rtpPort, a.ptime], ['0.0.0.0', 'sendrecv', false, 17890, 20]);
});

Audio('disabled stream (port 0): not sending, RTCP port 0', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'm=audio 0 RTP/AVP 0')));
  assert.equal([a.rtpPort, a.rtcpPort, a.sending], [0, 0, false]);
});

Audio('the chosen stream need not be the first m= line', () => {
  const a = audioOf(mustParse(sdpOf(...HEAD, 'm=video 5000 RTP/AVP 31', 'm=audio 4000 RTP/AVP 8', 'a=ptime:30')));
  assert.equal([a.index, a.rtpPort, a.ptime, [...a.payloadTypes.keys()]], [1, 4000, 30, [8]]);
});

Audio.run();

const Mux = suite('negotiatedMux');

Mux('rtcp-mux is used only when offer and answer both carry it (RFC 5761 §5.1.1)', () => {
  const mux = mustParse(sdpFixture('baresip-rtcp-mux'));
  const plain = mustParse(sdpFixture('sipp-default'));
  assert.equal([negotiatedMux(mux, mux), negotiatedMux(mux, plain), negotiatedMux(plain, mux)], [true, false, false]);
});

Mux.run();
