import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSdpError, SdpError } from './errors.ts';
import { isNullAddress, parseSdp } from './session-description.ts';
import { mustParse, sdpFixture, sdpOf } from './test-support.ts';

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0'];

function refusal(body: Buffer | string): SdpError {
  const r = parseSdp(body);
  if (!(r instanceof SdpError)) throw new TypeError('expected an SdpError');
  return r;
}

const Parse = suite('parseSdp');

Parse('sipp default body: origin, one audio stream, session-level c=', () => {
  const sdp = mustParse(sdpFixture('sipp-default'));
  assert.equal(sdp.origin, { username: 'user1', sessionId: '53655765', version: '2353687637', address: '127.0.0.1' });
  assert.is(sdp.audioIndex, 0);
  assert.equal(sdp.streams, [
    { index: 0, kind: 'audio', port: 6004, protocol: 'RTP/AVP', formats: ['0'], address: '127.0.0.1', direction: 'sendrecv', plainRtp: true },
  ]);
});

Parse('a string body reads the same as a Buffer', () => {
  assert.equal(mustParse(sdpFixture('sipp-default').toString()).streams, mustParse(sdpFixture('sipp-default')).streams);
});

Parse('baresip audio + video: both m= lines kept, audio chosen', () => {
  const sdp = mustParse(sdpFixture('baresip-video'));
  assert.equal(sdp.streams.map((s) => [s.kind, s.port, s.formats.join(' ')]), [['audio', 36892, '0 8 9 101'], ['video', 30040, '96']]);
  assert.is(sdp.audioIndex, 0);
});

Parse('linphone with ICE: media-level c= wins, RTP/AVP is plain RTP', () => {
  const sdp = mustParse(sdpFixture('linphone-ice'));
  assert.equal(sdp.streams.map((s) => [s.kind, s.address, s.plainRtp]), [['audio', '192.0.2.23', true], ['video', '192.0.2.23', true]]);
});

Parse('IPv6 connection and origin (baresip -6)', () => {
  const sdp = mustParse(sdpFixture('baresip-ipv6'));
  assert.is(sdp.streams[0]!.address, 'fd00::2');
  assert.is(sdp.origin.address, 'fd00::2');
});

Parse('media-level c= overrides the session level; streams inherit the session one', () => {
  const sdp = mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'c=IN IP6 2001:db8::7', 'm=video 4002 RTP/AVP 31'));
  assert.equal(sdp.streams.map((s) => s.address), ['2001:db8::7', '192.0.2.9']);
});

Parse('direction: media level, else session level, else sendrecv (RFC 3264 §5.1)', () => {
  const sdp = mustParse(sdpOf(...HEAD, 'a=sendonly', 'm=audio 4000 RTP/AVP 0', 'm=audio 4002 RTP/AVP 0', 'a=inactive'));
  assert.equal(sdp.streams.map((s) => s.direction), ['sendonly', 'inactive']);
  assert.is(mustParse(sdpFixture('sipp-default')).streams[0]!.direction, 'sendrecv');
});

Parse('old-style hold: c=0.0.0.0 is accepted', () => {
  const sdp = mustParse(sdpFixture('cisco-old-hold'));
  assert.is(sdp.streams[0]!.address, '0.0.0.0');
});

Parse('the relay takes the first plain RTP audio stream with a port', () => {
  const savpFirst = mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:X1RgcaSCSsCMnQ3aV8C/i8zjGxG38C1BqXQXtcJw', 'm=audio 4002 RTP/AVP 0'));
  assert.is(savpFirst.audioIndex, 1);
  const disabledFirst = mustParse(sdpOf(...HEAD, 'm=video 4004 RTP/AVP 31', 'm=audio 0 RTP/AVP 0', 'm=audio 4002 RTP/AVPF 0'));
  assert.is(disabledFirst.audioIndex, 2);
  const allDisabled = mustParse(sdpOf(...HEAD, 'm=audio 0 RTP/SAVP 0', 'm=audio 0 RTP/AVP 8'));
  assert.is(allDisabled.audioIndex, 1);
});

Parse('real-world slack: LF or CR line ends, trailing blanks, empty lines', () => {
  const crlf = sdpFixture('baresip-rtcp-mux').toString();
  const want = mustParse(crlf).streams;
  assert.equal(mustParse(crlf.replaceAll('\r\n', '\n')).streams, want);
  assert.equal(mustParse(crlf.replaceAll('\r\n', '\r')).streams, want);
  assert.equal(mustParse(crlf.replaceAll('\r\n', '  \r\n\r\n')).streams, want);
});

Parse('secure-only offers are refused with 488 (SDES and DTLS-SRTP, browser)', () => {
  for (const name of ['baresip-sdes-srtp', 'baresip-dtls-srtp', 'webrtc-browser'] as const) {
    const err = refusal(sdpFixture(name));
    assert.equal([err.code, err.reason, err.status], ['sdp.unsupported', 'Secure RTP not supported', 488], name);
  }
});

Parse('no audio stream: 488 No audio stream', () => {
  const err = refusal(sdpOf(...HEAD, 'm=video 4000 RTP/AVP 31'));
  assert.equal([err.code, err.reason, err.status], ['sdp.no-audio', 'No audio stream', 488]);
  assert.is(refusal(sdpOf(...HEAD)).reason, 'No audio stream');
  assert.is(refusal(sdpOf(...HEAD, 'm=audio 4000 TCP/RTP/AVP 0')).reason, 'Unsupported audio transport');
});

Parse('malformed bodies: 400 with a reason naming the line type', () => {
  const m = 'm=audio 4000 RTP/AVP 0';
  const cases: Array<[string, string]> = [
    ['', 'Empty SDP'],
    ['\r\n\r\n', 'Empty SDP'],
    ['hello world', 'Bad v= line'],
    [sdpOf('v=1', ...HEAD.slice(1), m), 'Bad v= line'],
    [sdpOf('INVITE sip:a@b SIP/2.0', ...HEAD, m), 'Bad v= line'],
    [sdpOf(...HEAD, m, 'v=0'), 'Bad v= line'],
    [sdpOf('v=0', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', m), 'Bad o= line'],
    [sdpOf('v=0', 'o=- x 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', m), 'Bad o= line'],
    [sdpOf(...HEAD, 'o=- 1 1 IN IP4 192.0.2.9', m), 'Bad o= line'],
    [sdpOf(...HEAD, 'junk', m), 'Bad SDP line'],
    [sdpOf(...HEAD, 'A=sendrecv', m), 'Bad SDP line'],
    [sdpOf(...HEAD, m, 'a=rtpmap:0 PCMU/8000\u0000'), 'Bad SDP line'],
    [sdpOf(...HEAD, m, 'c=IN IP4'), 'Bad c= line'],
    [sdpOf(...HEAD, m, 'c=IN IP4 192.0.2.300'), 'Bad c= line'],
    [sdpOf(...HEAD, m, 'c=IN IP6 192.0.2.3'), 'Bad c= line'],
    [sdpOf(...HEAD, m, 'c=IN IP4 2001:db8::1'), 'Bad c= line'],
    [sdpOf(...HEAD, m, 'c=ATM NSAP 47.0091'), 'Bad c= line'],
    [sdpOf(...HEAD, m, 'c=IN IP4 #!'), 'Bad c= line'],
    [sdpOf(...HEAD, 'm=audio x RTP/AVP 0'), 'Bad m= line'],
    [sdpOf(...HEAD, 'm=audio 70000 RTP/AVP 0'), 'Bad m= line'],
    [sdpOf(...HEAD, 'm=audio 4000 RTP/AVP'), 'Bad m= line'],
    [sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 PCMU'), 'Bad m= line'],
    [sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0 200'), 'Bad m= line'],
    [sdpOf(...HEAD, 'm=audio  4000 RTP/AVP 0'), 'Bad m= line'],
    [sdpOf(...HEAD.filter((l) => !l.startsWith('c=')), m), 'Missing c= line'],
    [sdpOf(...HEAD, m, 'a=rtcp:x'), 'Bad a=rtcp line'],
    [sdpOf(...HEAD, m, 'a=rtcp:0'), 'Bad a=rtcp line'],
    [sdpOf(...HEAD, m, 'a=rtcp:65536'), 'Bad a=rtcp line'],
    [sdpOf(...HEAD, m, `i=${'x'.repeat(70_000)}`), 'SDP too large'],
  ];
  for (const [body, reason] of cases) {
    const err = refusal(body);
    assert.equal([err.code, err.reason, err.status], ['sdp.malformed', reason, 400], JSON.stringify(body.slice(0, 120)));
  }
});

Parse('valid SDP the relay cannot use: 488 with the reason', () => {
  const m = 'm=audio 4000 RTP/AVP 0';
  const cases: Array<[string, string]> = [
    [sdpOf(...HEAD, m, 'c=IN IP4 224.2.1.1/127'), 'Multicast not supported'],
    [sdpOf(...HEAD, m, 'c=IN IP6 ff15::101'), 'Multicast not supported'],
    [sdpOf(...HEAD, m, 'c=IN IP4 media.example.com'), 'Unsupported c= address'],
    [sdpOf(...HEAD, 'm=audio 4000/2 RTP/AVP 0'), 'Port count not supported'],
  ];
  for (const [body, reason] of cases) {
    const err = refusal(body);
    assert.equal([err.code, err.reason, err.status], ['sdp.unsupported', reason, 488], reason);
  }
});

Parse('the error names the 1-based line of the body, not in the reason', () => {
  const err = refusal(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'c=IN IP4 300.1.1.1'));
  assert.is(err.line, 7);
  assert.is(err.reason, 'Bad c= line');
  assert.match(err.message, /line 7/);
  assert.ok(isSdpError(err));
});

Parse('a bad a=rtcp on a stream the relay does not carry is ignored', () => {
  assert.not.ok(isSdpError(parseSdp(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'm=video 4002 RTP/AVP 31', 'a=rtcp:x'))));
});

Parse.run();

const NullAddress = suite('isNullAddress');

NullAddress('0.0.0.0 and :: are the unspecified address; others are not', () => {
  assert.equal(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '0.0.0.1', '192.0.2.1', '::1', '', '0'].map(isNullAddress), [true, true, true, false, false, false, false, false]);
});

NullAddress.run();
