/**
 * A pcap of one G.711 A-law RTP stream (payload type 8, 20 ms packets of silence) for sipp's
 * play_pcap_audio, which replays the RTP payloads of a capture to the peer's media address with
 * the capture's timing. /usr/share/sip-tester/g711a.pcap lasts about 7 s; a call that must keep
 * its media flowing for longer (bench/stampede.ts, test/integration/stampede.test.ts) plays one
 * of these instead. sipp rewrites the addresses and ports, so the ones written here are dummies.
 */
import { writeFileSync } from 'node:fs';

const PACKET_MS = 20;
const SAMPLES = 160;
const PCMA_SILENCE = 0xd5;

/** Writes `seconds` of A-law RTP (one packet every 20 ms) as a classic little-endian pcap (Ethernet). */
export function writePcmaPcap(path: string, seconds: number): number {
  const count = Math.round((seconds * 1000) / PACKET_MS);
  const rtpLen = 12 + SAMPLES;
  const frameLen = 14 + 20 + 8 + rtpLen;
  const out = Buffer.alloc(24 + count * (16 + frameLen));
  // Global header: magic, version 2.4, tz 0, sigfigs 0, snaplen 65535, linktype 1 (Ethernet).
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);
  const ssrc = 0x5ca1ab1e;
  for (let i = 0; i < count; i++) {
    let o = 24 + i * (16 + frameLen);
    const usec = i * PACKET_MS * 1000;
    out.writeUInt32LE(Math.floor(usec / 1e6), o);
    out.writeUInt32LE(usec % 1e6, o + 4);
    out.writeUInt32LE(frameLen, o + 8);
    out.writeUInt32LE(frameLen, o + 12);
    o += 16;
    // Ethernet: zero MACs, type IPv4.
    out.writeUInt16BE(0x0800, o + 12);
    o += 14;
    // IPv4: 10.0.0.1 -> 10.0.0.2, UDP (checksum left 0: sipp does not check it).
    out[o] = 0x45;
    out.writeUInt16BE(20 + 8 + rtpLen, o + 2);
    out[o + 8] = 64;
    out[o + 9] = 17;
    out.writeUInt32BE(0x0a000001, o + 12);
    out.writeUInt32BE(0x0a000002, o + 16);
    o += 20;
    out.writeUInt16BE(6000, o);
    out.writeUInt16BE(6000, o + 2);
    out.writeUInt16BE(8 + rtpLen, o + 4);
    o += 8;
    out[o] = 0x80;
    out[o + 1] = i === 0 ? 0x88 : 0x08;
    out.writeUInt16BE(i & 0xffff, o + 2);
    out.writeUInt32BE((i * SAMPLES) >>> 0, o + 4);
    out.writeUInt32BE(ssrc, o + 8);
    out.fill(PCMA_SILENCE, o + 12, o + 12 + SAMPLES);
  }
  writeFileSync(path, out);
  return count;
}
