import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { LocalMedia } from '../../media/relay-types.ts';
import { audioOf } from './media-description.ts';
import { OriginState } from './origin-state.ts';
import { rewriteForRelay } from './rewrite-for-relay.ts';
import type { SessionDescription } from './session-description.ts';
import { mustParse, sdpFixture, sdpOf, type FixtureName } from './test-support.ts';

const RELAY: LocalMedia = { address: '198.51.100.1', rtpPort: 40000, rtcpPort: 40001 };
const RELAY6: LocalMedia = { address: '2001:db8::100', rtpPort: 40010, rtcpPort: 40011 };
const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0'];

function lines(text: string): string[] {
  return text.split('\r\n').filter((l) => l !== '');
}

/** Rewrites with a fresh origin and parses the result back. */
function roundTrip(sdp: SessionDescription, local: LocalMedia = RELAY): { text: string; again: SessionDescription } {
  const text = rewriteForRelay(sdp, local, new OriginState({ sessionId: '4711' }));
  return { text, again: mustParse(text) };
}

const Rewrite = suite('rewriteForRelay');

Rewrite('sipp default body: relay address and port, own o= line, nothing else changed', () => {
  const { text } = roundTrip(mustParse(sdpFixture('sipp-default')));
  assert.equal(lines(text), [
    'v=0',
    'o=outpost 4711 1 IN IP4 198.51.100.1',
    's=-',
    'c=IN IP4 198.51.100.1',
    't=0 0',
    'm=audio 40000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
  ]);
  assert.ok(text.endsWith('\r\n'));
});

Rewrite('round trip of every usable fixture: relay address and ports, codecs and direction unchanged', () => {
  const names: FixtureName[] = ['sipp-default', 'baresip-rtcp-mux', 'baresip-video', 'baresip-ice', 'baresip-ipv6', 'linphone-ice'];
  for (const name of names) {
    const before = mustParse(sdpFixture(name));
    const { text, again } = roundTrip(before);
    const a = audioOf(again);
    const b = audioOf(before);
    assert.equal([a.address, a.rtpPort, a.rtcpPort], [RELAY.address, RELAY.rtpPort, RELAY.rtcpPort], name);
    assert.equal([...a.payloadTypes], [...b.payloadTypes], name);
    assert.equal([a.direction, a.ptime, a.rtcpMux, a.index], [b.direction, b.ptime, b.rtcpMux, b.index], name);
    assert.equal(again.tree.media[a.index]!.fmtp, before.tree.media[b.index]!.fmtp, name);
    assert.equal(again.streams.map((s) => [s.kind, s.protocol, s.formats]), before.streams.map((s) => [s.kind, s.protocol, s.formats]), name);
    // Neither the party's media address nor any of its candidates reaches the other side
    // (a=ssrc cname is the party's RTCP name, relayed unchanged in its RTCP anyway).
    const partyAddress = /192\.0\.2\.(2|23)\b|203\.0\.113|fd00::2|127\.0\.0\.1\b/;
    const withoutCname = (t: string) => t.replace(/a=ssrc:.*\r\n/g, '');
    assert.ok(partyAddress.test(withoutCname(sdpFixture(name).toString())), name);
    assert.not.ok(partyAddress.test(withoutCname(text)), name);
  }
});

Rewrite('m= lines other than the relayed audio go out with port 0, without a=rtcp', () => {
  const { text, again } = roundTrip(mustParse(sdpFixture('linphone-ice')));
  assert.equal(again.streams.map((s) => [s.kind, s.port, s.address]), [['audio', 40000, RELAY.address], ['video', 0, RELAY.address]]);
  assert.equal(again.tree.media[1]!.rtcp, undefined);
  assert.ok(text.includes('a=rtcp-fb:96 nack pli'));
});

Rewrite('ICE attributes are stripped at both levels (baresip, linphone)', () => {
  for (const name of ['baresip-ice', 'linphone-ice'] as const) {
    const { text } = roundTrip(mustParse(sdpFixture(name)));
    assert.not.match(text, /a=(candidate|ice-ufrag|ice-pwd|ice-options|end-of-candidates)/, name);
  }
});

Rewrite('DTLS, SDES and BUNDLE attributes are stripped; the rest of a WebRTC-style plain offer stays', () => {
  const sdp = mustParse(sdpOf(
    ...HEAD, 'a=group:BUNDLE 0 1', 'a=ice-lite', 'a=fingerprint:sha-256 D7:87:97', 'a=msid-semantic: WMS s1',
    'm=audio 4000 RTP/AVPF 111 0', 'a=mid:0', 'a=setup:actpass', 'a=tls-id:abc', 'a=ice-ufrag:EsAw', 'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
    'a=candidate:1 1 udp 2122260223 192.0.2.9 4000 typ host', 'a=end-of-candidates', 'a=ice-options:trickle',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:X1RgcaSCSsCMnQ3aV8C/i8zjGxG38C1BqXQXtcJw', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-mux',
    'm=video 4002 RTP/AVPF 96', 'a=mid:1', 'a=bundle-only', 'a=rtpmap:96 VP8/90000',
  ));
  const { text } = roundTrip(sdp);
  assert.not.match(text, /a=(group:BUNDLE|ice-|fingerprint|setup|tls-id|candidate|end-of-candidates|crypto|bundle-only)/);
  for (const kept of ['a=msid-semantic: WMS s1', 'a=mid:0', 'a=mid:1', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'm=audio 40000 RTP/AVPF 111 0']) {
    assert.ok(text.includes(`${kept}\r\n`), kept);
  }
});

Rewrite('rtcp-mux kept and relay multiplexing: a=rtcp removed (RFC 5761)', () => {
  const sdp = mustParse(sdpOf(...HEAD, 'm=audio 4000 RTP/AVP 0', 'a=rtcp:4000', 'a=rtcp-mux'));
  const { text, again } = roundTrip(sdp, { address: RELAY.address, rtpPort: 40000, rtcpPort: 40000 });
  assert.not.match(text, /a=rtcp:/);
  assert.equal([audioOf(again).rtcpMux, audioOf(again).rtpPort], [true, 40000]);
});

Rewrite('a=rtcp carries the relay RTCP port, with the relay address when it had one', () => {
  const portOnly = roundTrip(mustParse(sdpFixture('linphone-ice'))).text;
  assert.ok(portOnly.includes('a=rtcp:40001\r\n'));
  const withAddress = roundTrip(mustParse(sdpFixture('baresip-ice')), RELAY6).text;
  assert.ok(withAddress.includes('a=rtcp:40011 IN IP6 2001:db8::100\r\n'));
});

Rewrite('a=rtcp added when the relay RTCP port is not RTP + 1; omitted when it is', () => {
  const sdp = mustParse(sdpFixture('sipp-default'));
  assert.ok(roundTrip(sdp, { address: RELAY.address, rtpPort: 40000, rtcpPort: 40007 }).text.includes('a=rtcp:40007\r\n'));
  assert.not.match(roundTrip(sdp).text, /a=rtcp/);
  const again = roundTrip(sdp, { address: RELAY.address, rtpPort: 40000, rtcpPort: 40007 }).again;
  assert.is(audioOf(again).rtcpPort, 40007);
});

Rewrite('old-style hold: c=0.0.0.0 is passed on at both levels, port replaced', () => {
  const { text, again } = roundTrip(mustParse(sdpFixture('cisco-old-hold')));
  assert.equal(lines(text).filter((l) => l.startsWith('c=')), ['c=IN IP4 0.0.0.0', 'c=IN IP4 0.0.0.0']);
  assert.equal([audioOf(again).rtpPort, audioOf(again).sending], [40000, false]);
  assert.ok(text.includes('s=SIP Call\r\n'));
});

Rewrite('IPv6 party, IPv4 relay and back: c=, o= and a=rtcp take the relay address family', () => {
  const v4 = roundTrip(mustParse(sdpFixture('baresip-ipv6'))).text;
  assert.match(v4, /^o=outpost 4711 1 IN IP4 198\.51\.100\.1$/m);
  assert.match(v4, /^c=IN IP4 198\.51\.100\.1$/m);
  const v6 = roundTrip(mustParse(sdpFixture('sipp-default')), RELAY6).text;
  assert.match(v6, /^o=outpost 4711 1 IN IP6 2001:db8::100$/m);
  assert.match(v6, /^c=IN IP6 2001:db8::100$/m);
});

Rewrite('a disabled audio stream stays disabled', () => {
  const { again } = roundTrip(mustParse(sdpOf(...HEAD, 'm=audio 0 RTP/AVP 0', 'a=rtcp:4001')));
  assert.equal([again.streams[0]!.port, again.tree.media[0]!.rtcp], [0, undefined]);
});

Rewrite('direction, ptime and unknown attributes are kept; empty s= becomes "-"', () => {
  const sdp = mustParse(sdpOf('v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's= ', 'c=IN IP4 192.0.2.9', 't=0 0', 'a=recvonly', 'm=audio 4000 RTP/AVP 0', 'a=sendonly', 'a=ptime:30', 'a=x-vendor:thing'));
  const { text } = roundTrip(sdp);
  for (const kept of ['s=-', 'a=recvonly', 'a=sendonly', 'a=ptime:30', 'a=x-vendor:thing']) assert.ok(text.includes(`${kept}\r\n`), kept);
});

Rewrite('numeric values where text is expected do not trip the rewrite', () => {
  const { text } = roundTrip(mustParse(sdpOf('v=0', 'o=5 1 1 IN IP4 192.0.2.9', 's=1', 'c=IN IP4 192.0.2.9', 't=0 0', 'a=group:5 0', 'a=7', 'm=audio 4000 RTP/AVP 96', 'a=rtpmap:96 729/8000')));
  for (const kept of ['s=1', 'a=group:5 0', 'a=7', 'a=rtpmap:96 729/8000']) assert.ok(text.includes(`${kept}\r\n`), kept);
});

Rewrite('missing s= and t= are supplied', () => {
  const { text } = roundTrip(mustParse(sdpOf('v=0', 'o=- 1 1 IN IP4 192.0.2.9', 'c=IN IP4 192.0.2.9', 'm=audio 4000 RTP/AVP 0')));
  assert.ok(text.includes('s=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n'));
});

Rewrite('the parsed input is not modified', () => {
  const sdp = mustParse(sdpFixture('linphone-ice'));
  const before = JSON.stringify(sdp.tree);
  roundTrip(sdp);
  assert.is(JSON.stringify(sdp.tree), before);
});

Rewrite('origin version per leg: unchanged SDP keeps it, a new SDP increments it (RFC 3264 §8)', () => {
  const origin = new OriginState({ sessionId: '99', firstVersion: 5 });
  const active = mustParse(sdpFixture('baresip-rtcp-mux'));
  const held = mustParse(sdpFixture('baresip-rtcp-mux').toString().replace('a=sendrecv', 'a=sendonly'));
  const versionOf = (text: string) => /^o=outpost 99 (\d+) IN IP4 198\.51\.100\.1$/m.exec(text)?.[1];
  const sent = [active, active, held, held, active].map((sdp) => versionOf(rewriteForRelay(sdp, RELAY, origin)));
  assert.equal(sent, ['5', '5', '6', '6', '7']);
  // The party's own o= version does not matter, only what the box sends.
  const reVersioned = mustParse(sdpFixture('baresip-rtcp-mux').toString().replace(' 322917452 ', ' 322917453 '));
  assert.is(versionOf(rewriteForRelay(reVersioned, RELAY, origin)), '7');
  // A new relay port on the leg is a change.
  assert.is(versionOf(rewriteForRelay(active, { ...RELAY, rtpPort: 40100, rtcpPort: 40101 }, origin)), '8');
});

Rewrite.run();
