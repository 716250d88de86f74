/**
 * A HEP v3 decoder for tests: the inverse of agent/trace/hep-encoder.ts, written from the chunk
 * layout (not from the encoder), strict about lengths, so a test collector on 127.0.0.1 can read
 * what a node exports. Also a collector: a UDP socket that decodes every datagram it receives.
 */
import { createSocket, type Socket } from 'node:dgram';
import { HarnessError } from './harness-error.ts';

export interface DecodedHep {
  ipFamily: number;
  ipProtocol: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  timeSeconds: number;
  timeMicros: number;
  protoType: number;
  captureId: number;
  authKey: string | undefined;
  payload: Buffer;
  correlationId: string | undefined;
  /** Every chunk by type id (generic vendor only), for chunks the fields above do not name. */
  chunks: Map<number, Buffer>;
}

export function decodeHep(buf: Buffer): DecodedHep {
  if (buf.length < 6 || buf.toString('ascii', 0, 4) !== 'HEP3') throw new HarnessError('not a HEP3 packet');
  const total = buf.readUInt16BE(4);
  if (total !== buf.length) throw new HarnessError(`HEP3 length field ${total} != datagram length ${buf.length}`);
  const chunks = new Map<number, Buffer>();
  let off = 6;
  while (off < total) {
    if (off + 6 > total) throw new HarnessError(`truncated chunk header at ${off}`);
    const vendor = buf.readUInt16BE(off);
    const type = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    if (len < 6 || off + len > total) throw new HarnessError(`bad chunk length ${len} at ${off}`);
    if (vendor === 0) chunks.set(type, buf.subarray(off + 6, off + len));
    off += len;
  }
  const need = (type: number) => {
    const c = chunks.get(type);
    if (!c) throw new HarnessError(`HEP chunk ${type} missing`);
    return c;
  };
  const ipFamily = need(1).readUInt8(0);
  const v6 = ipFamily === 10;
  const text = (type: number) => chunks.get(type)?.toString('utf8');
  return {
    ipFamily,
    ipProtocol: need(2).readUInt8(0),
    srcIp: ipText(need(v6 ? 5 : 3)),
    dstIp: ipText(need(v6 ? 6 : 4)),
    srcPort: need(7).readUInt16BE(0),
    dstPort: need(8).readUInt16BE(0),
    timeSeconds: need(9).readUInt32BE(0),
    timeMicros: need(10).readUInt32BE(0),
    protoType: need(11).readUInt8(0),
    captureId: need(12).readUInt32BE(0),
    authKey: text(14),
    payload: need(15),
    correlationId: text(17),
    chunks,
  };
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new HarnessError(`IP chunk of ${b.length} bytes`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Shorten the longest run of zero groups to '::' (RFC 5952), as node:net prints addresses.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** A UDP collector on 127.0.0.1 (OS port) that keeps every packet decoded. */
export interface HepCollector {
  port: number;
  packets: DecodedHep[];
  /** Datagrams that were not valid HEP3. */
  invalid: number;
  close(): Promise<void>;
}

export function startHepCollector(host = '127.0.0.1'): Promise<HepCollector> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const collector: HepCollector = {
    port: 0,
    packets: [],
    invalid: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg) => {
    try {
      collector.packets.push(decodeHep(msg));
    } catch {
      collector.invalid++;
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      collector.port = socket.address().port;
      resolve(collector);
    });
  });
}
