/**
 * A reader of libpcap files for tests: the records of a LINKTYPE_RAW capture with their IPv4 or
 * IPv6 and UDP headers decoded and checked (lengths, IPv4 header checksum, UDP checksum), and
 * tshark's view of a capture when tshark is installed.
 */
import { spawnSync } from 'node:child_process';
import { HarnessError } from './harness-error.ts';

export interface PcapUdpRecord {
  timeMicros: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export function readPcap(file: Buffer): { linktype: number; records: PcapUdpRecord[] } {
  if (file.length < 24 || file.readUInt32LE(0) !== 0xa1b2c3d4) throw new HarnessError('not a little-endian microsecond pcap file');
  const linktype = file.readUInt32LE(20);
  const records: PcapUdpRecord[] = [];
  let off = 24;
  while (off < file.length) {
    if (off + 16 > file.length) throw new HarnessError(`truncated record header at ${off}`);
    const caplen = file.readUInt32LE(off + 8);
    const ip = file.subarray(off + 16, off + 16 + caplen);
    if (ip.length !== caplen) throw new HarnessError(`truncated record at ${off}`);
    const timeMicros = file.readUInt32LE(off) * 1e6 + file.readUInt32LE(off + 4);
    records.push({ timeMicros, ...decodeIpUdp(ip) });
    off += 16 + caplen;
  }
  return { linktype, records };
}

function decodeIpUdp(ip: Buffer): Omit<PcapUdpRecord, 'timeMicros'> {
  const version = ip[0]! >> 4;
  let headerLength: number;
  let srcIp: string;
  let dstIp: string;
  let pseudo: Buffer;
  if (version === 4) {
    headerLength = (ip[0]! & 0x0f) * 4;
    if (ip.readUInt16BE(2) !== ip.length) throw new HarnessError('IPv4 total length mismatch');
    if (checksum(ip.subarray(0, headerLength)) !== 0) throw new HarnessError('bad IPv4 header checksum');
    if (ip[9] !== 17) throw new HarnessError('not UDP');
    srcIp = [...ip.subarray(12, 16)].join('.');
    dstIp = [...ip.subarray(16, 20)].join('.');
    pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 17]), ip.subarray(headerLength + 4, headerLength + 6)]);
  } else if (version === 6) {
    headerLength = 40;
    if (ip.readUInt16BE(4) !== ip.length - 40) throw new HarnessError('IPv6 payload length mismatch');
    if (ip[6] !== 17) throw new HarnessError('not UDP');
    srcIp = v6Text(ip.subarray(8, 24));
    dstIp = v6Text(ip.subarray(24, 40));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(ip.length - 40);
    pseudo = Buffer.concat([ip.subarray(8, 40), len, Buffer.from([0, 0, 0, 17])]);
  } else {
    throw new HarnessError(`IP version ${version}`);
  }
  const udp = ip.subarray(headerLength);
  if (udp.readUInt16BE(4) !== udp.length) throw new HarnessError('UDP length mismatch');
  if (udp.readUInt16BE(6) !== 0 && checksum(Buffer.concat([pseudo, udp])) !== 0) throw new HarnessError('bad UDP checksum');
  return { srcIp, dstIp, srcPort: udp.readUInt16BE(0), dstPort: udp.readUInt16BE(2), payload: Buffer.from(udp.subarray(8)) };
}

function v6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** True when `tshark` runs here. */
export function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * tshark's fields for each SIP message of a capture (`-T fields`, tab-separated), decoding the
 * given UDP ports as SIP besides 5060.
 */
export function tsharkSip(file: string, fields: string[], sipPorts: number[] = []): string[][] {
  const decodeAs = sipPorts.flatMap((p) => ['-d', `udp.port==${p},sip`]);
  const res = spawnSync('tshark', ['-n', '-r', file, ...decodeAs, '-Y', 'sip', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  if (res.status !== 0) throw new HarnessError(`tshark -r ${file} failed (${res.status}): ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/** True when `sngrep` runs here. */
export function hasSngrep(): boolean {
  return spawnSync('sngrep', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** The dialogs sngrep finds in a capture (`sngrep -N -I FILE -O OUT`, no terminal needed). */
export function sngrepDialogCount(file: string, out: string): number {
  const res = spawnSync('sngrep', ['-N', '-I', file, '-O', out], { encoding: 'utf8', timeout: 20_000 });
  if (res.status !== 0) throw new HarnessError(`sngrep -I ${file} failed (${res.status}): ${res.stderr}`);
  const counts = [...res.stdout.matchAll(/Dialog count: (\d+)/g)].map((m) => Number(m[1]));
  if (counts.length === 0) throw new HarnessError(`sngrep printed no dialog count: ${res.stdout}`);
  return counts.at(-1)!;
}
