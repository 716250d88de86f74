/**
 * Test support for the relay tests (not used by the agent): a fake phone with real UDP sockets
 * for RTP and RTCP on loopback, RTP/RTCP packet builders, and a free port range finder.
 * Waiting is poll-until-deadline, never a fixed sleep.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { bindUdp } from './socket-pair.ts';
import type { RemoteMedia } from './relay-types.ts';

export interface Received {
  data: Buffer;
  /** Source port (the relay's local port it came from). */
  fromPort: number;
}

export class FakePhone {
  readonly rtpIn: Received[] = [];
  readonly rtcpIn: Received[] = [];

  private constructor(
    private readonly rtp: Socket,
    private readonly rtcp: Socket,
    readonly host: string,
  ) {
    rtp.on('message', (data: Buffer, r: RemoteInfo) => this.rtpIn.push({ data, fromPort: r.port }));
    rtcp.on('message', (data: Buffer, r: RemoteInfo) => this.rtcpIn.push({ data, fromPort: r.port }));
  }

  static async open(host = '127.0.0.1'): Promise<FakePhone> {
    return new FakePhone(await bindUdp(host, 0), await bindUdp(host, 0), host);
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  get rtcpPort(): number {
    return this.rtcp.address().port;
  }

  /** This phone's SDP as the switch would pass it to update(). */
  media(overrides: Partial<RemoteMedia> = {}): RemoteMedia {
    return {
      address: this.host,
      rtpPort: this.rtpPort,
      rtcpPort: this.rtcpPort,
      rtcpMux: false,
      payloadTypes: new Map([[0, 'PCMU/8000'], [101, 'telephone-event/8000']]),
      sending: true,
      ...overrides,
    };
  }

  sendRtp(data: Buffer, port: number): void {
    this.rtp.send(data, port, this.host);
  }

  sendRtcp(data: Buffer, port: number): void {
    this.rtcp.send(data, port, this.host);
  }

  /** Resolves once `count` RTP (or RTCP) packets have arrived; rejects after `timeoutMs`. */
  async waitRtp(count: number, timeoutMs = 2000): Promise<Received[]> {
    await pollUntil(() => this.rtpIn.length >= count, `${count} RTP packets at port ${this.rtpPort}`, timeoutMs);
    return this.rtpIn;
  }

  async waitRtcp(count: number, timeoutMs = 2000): Promise<Received[]> {
    await pollUntil(() => this.rtcpIn.length >= count, `${count} RTCP packets at port ${this.rtcpPort}`, timeoutMs);
    return this.rtcpIn;
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

export async function pollUntil(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface RtpFields {
  pt?: number;
  marker?: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  payload?: Buffer;
}

/** A plain RTP packet (RFC 3550 §5.1): 12-byte header, 160-byte payload unless given. */
export function rtpPacket(f: RtpFields): Buffer {
  const payload = f.payload ?? Buffer.alloc(160, 0xff);
  const buf = Buffer.alloc(12 + payload.length);
  buf[0] = 0x80;
  buf[1] = (f.marker ? 0x80 : 0) | (f.pt ?? 0);
  buf.writeUInt16BE(f.seq & 0xffff, 2);
  buf.writeUInt32BE(f.ts >>> 0, 4);
  buf.writeUInt32BE(f.ssrc >>> 0, 8);
  payload.copy(buf, 12);
  return buf;
}

/** An RTCP SR with one report block (RFC 3550 §6.4.1): 52 bytes. */
export function senderReport(ssrc: number, rtpTs: number, reportee: number, extendedSeq: number): Buffer {
  const buf = Buffer.alloc(52);
  buf[0] = 0x81;
  buf[1] = 200;
  buf.writeUInt16BE(52 / 4 - 1, 2);
  buf.writeUInt32BE(ssrc, 4);
  buf.writeUInt32BE(0x83aa7e80, 8); // NTP seconds
  buf.writeUInt32BE(0, 12);
  buf.writeUInt32BE(rtpTs >>> 0, 16);
  buf.writeUInt32BE(10, 20); // packet count
  buf.writeUInt32BE(1600, 24); // octet count
  buf.writeUInt32BE(reportee, 28);
  buf.writeUInt32BE(extendedSeq >>> 0, 36);
  return buf;
}

/**
 * A port range of `size` ports below the ephemeral range that nothing holds right now (probed
 * by binding every port). The pool skips ports taken later anyway.
 */
export async function findFreePortRange(size: number, from = 30000, to = 32700): Promise<[number, number]> {
  for (let base = from; base + size - 1 <= to; base += size) {
    const held: Socket[] = [];
    let ok = true;
    for (let port = base; port < base + size && ok; port++) {
      try {
        held.push(await bindUdp('127.0.0.1', port));
      } catch {
        ok = false;
      }
    }
    for (const s of held) s.close();
    if (ok) return [base, base + size - 1];
  }
  throw new Error(`no free range of ${size} UDP ports in [${from}, ${to}]`);
}
