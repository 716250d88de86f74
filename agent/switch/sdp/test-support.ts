/**
 * Test helpers of agent/switch/sdp/: the SDP bodies of fixtures/ (see fixtures/README.md for
 * where each comes from) and a parse that fails the test on an SdpError.
 */
import { readFileSync } from 'node:fs';
import { SdpError } from './errors.ts';
import { parseSdp, type SessionDescription } from './session-description.ts';

export type FixtureName =
  | 'sipp-default'
  | 'baresip-rtcp-mux'
  | 'baresip-video'
  | 'baresip-ice'
  | 'baresip-sdes-srtp'
  | 'baresip-dtls-srtp'
  | 'baresip-ipv6'
  | 'linphone-ice'
  | 'webrtc-browser'
  | 'cisco-old-hold';

export const FIXTURES: readonly FixtureName[] = [
  'sipp-default', 'baresip-rtcp-mux', 'baresip-video', 'baresip-ice', 'baresip-sdes-srtp',
  'baresip-dtls-srtp', 'baresip-ipv6', 'linphone-ice', 'webrtc-browser', 'cisco-old-hold',
];

export function sdpFixture(name: FixtureName): Buffer {
  return readFileSync(new URL(`./fixtures/${name}.sdp`, import.meta.url));
}

/** Parses a body that must be usable; an SdpError fails the calling test with its reason. */
export function mustParse(body: Buffer | string): SessionDescription {
  const sdp = parseSdp(body);
  if (sdp instanceof SdpError) throw new TypeError(`unexpected SdpError ${sdp.code}: ${sdp.message}`);
  return sdp;
}

/** Builds a CRLF body from lines. */
export function sdpOf(...lines: string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}
