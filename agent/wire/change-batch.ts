/**
 * The binary form of a batch of crsql_changes rows (DESIGN.md section 6), signed by its sender.
 *
 *   "OPB" 0x01 | kind u8 | flags u8 (bit 0: more) | sender str | stream str | requestId str
 *   | schema uvarint | from uvarint | to uvarint
 *   | tables: count, str... | sites: count, bytes... | changes: count, then per change
 *     tableIdx uvarint, pk bytes, cid str, value, colVersion, dbVersion uvarint, siteIdx uvarint,
 *     cl uvarint, seq uvarint
 *   | signature: len u8 + the sender's ed25519 signature over every byte before it
 *   | admin signature: len u8 (0: none) + a site admin key's signature over the same bytes
 *
 * A value is a tag (0 null, 1 integer as zig-zag varint, 2 float64, 3 text, 4 blob) and its
 * bytes, so SQLite types survive exactly. Table names and site ids are sent once per batch.
 */
import { ByteReader, ByteWriter, WireError } from './binary.ts';
import type { StreamName } from './topics.ts';

export type WireValue = null | bigint | number | string | Uint8Array;

export interface WireChange {
  table: string;
  pk: Uint8Array;
  cid: string;
  val: WireValue;
  colVersion: bigint;
  dbVersion: bigint;
  siteId: Uint8Array;
  cl: bigint;
  seq: bigint;
}

export interface ChangeBatch {
  /** push: a new batch of the stream; reply: a page answering a catch-up request. */
  kind: 'push' | 'reply';
  sender: string;
  stream: StreamName;
  /** Empty for pushes. */
  requestId: string;
  schema: number;
  /** The batch holds every change of the stream in (from, to] of the sender's version space. */
  from: bigint;
  to: bigint;
  /** Replies: more pages follow after `to`. */
  more: boolean;
  changes: WireChange[];
}

export interface DecodedBatch {
  batch: ChangeBatch;
  /** The bytes both signatures cover. */
  signed: Buffer;
  signature: Buffer;
  /** Present when a box holding its site's admin key signed admin-owned changes. */
  adminSignature: Buffer | undefined;
}

const MAGIC = [0x4f, 0x50, 0x42, 0x01];

export function encodeBatch(batch: ChangeBatch, sign: (bytes: Buffer) => Uint8Array, adminSign?: (bytes: Buffer) => Uint8Array): Buffer {
  const w = new ByteWriter(256 + batch.changes.length * 64);
  for (const b of MAGIC) w.u8(b);
  w.u8(batch.kind === 'push' ? 1 : 2);
  w.u8(batch.more ? 1 : 0);
  w.str(batch.sender);
  w.str(batch.stream);
  w.str(batch.requestId);
  w.uvarint(batch.schema);
  w.uvarint(batch.from);
  w.uvarint(batch.to);
  const tables = new Map<string, number>();
  const sites = new Map<string, number>();
  const siteBytes: Uint8Array[] = [];
  for (const c of batch.changes) {
    if (!tables.has(c.table)) tables.set(c.table, tables.size);
    const key = Buffer.from(c.siteId).toString('hex');
    if (!sites.has(key)) {
      sites.set(key, sites.size);
      siteBytes.push(c.siteId);
    }
  }
  w.uvarint(tables.size);
  for (const t of tables.keys()) w.str(t);
  w.uvarint(siteBytes.length);
  for (const s of siteBytes) w.bytes(s);
  w.uvarint(batch.changes.length);
  let lastSite: Uint8Array | undefined;
  let lastSiteIdx = 0;
  for (const c of batch.changes) {
    w.uvarint(tables.get(c.table)!);
    w.bytes(c.pk);
    w.str(c.cid);
    writeValue(w, c.val);
    w.uvarint(c.colVersion);
    w.uvarint(c.dbVersion);
    if (c.siteId !== lastSite) {
      lastSite = c.siteId;
      lastSiteIdx = sites.get(Buffer.from(c.siteId).toString('hex'))!;
    }
    w.uvarint(lastSiteIdx);
    w.uvarint(c.cl);
    w.uvarint(c.seq);
  }
  const signed = w.finish();
  const signature = sign(signed);
  const admin = adminSign ? adminSign(signed) : new Uint8Array(0);
  const out = Buffer.allocUnsafe(signed.length + 2 + signature.length + admin.length);
  signed.copy(out, 0);
  let at = signed.length;
  out[at++] = signature.length;
  out.set(signature, at);
  at += signature.length;
  out[at++] = admin.length;
  out.set(admin, at);
  return out;
}

function writeValue(w: ByteWriter, v: WireValue): void {
  if (v === null || v === undefined) w.u8(0);
  else if (typeof v === 'bigint') {
    w.u8(1);
    w.svarint(v);
  } else if (typeof v === 'number') {
    w.u8(2);
    w.f64(v);
  } else if (typeof v === 'string') {
    w.u8(3);
    w.str(v);
  } else {
    w.u8(4);
    w.bytes(v);
  }
}

function readValue(r: ByteReader): WireValue {
  const tag = r.u8();
  switch (tag) {
    case 0:
      return null;
    case 1:
      return r.svarint();
    case 2:
      return r.f64();
    case 3:
      return r.str();
    case 4:
      return Buffer.from(r.bytes());
    default:
      throw new WireError(`unknown value tag ${tag}`);
  }
}

/** The header fields only (no changes decoded): enough to drop duplicates before verifying. */
export interface BatchHeader {
  kind: 'push' | 'reply';
  more: boolean;
  sender: string;
  stream: string;
  requestId: string;
  schema: number;
  from: bigint;
  to: bigint;
}

function readHeader(r: ByteReader): BatchHeader {
  for (const b of MAGIC) if (r.u8() !== b) throw new WireError('not a change batch (bad magic or version)');
  const kindByte = r.u8();
  if (kindByte !== 1 && kindByte !== 2) throw new WireError(`unknown batch kind ${kindByte}`);
  const flags = r.u8();
  return {
    kind: kindByte === 1 ? 'push' : 'reply',
    more: (flags & 1) === 1,
    sender: r.str(),
    stream: r.str(),
    requestId: r.str(),
    schema: r.uvarint(),
    from: r.uvarintBig(),
    to: r.uvarintBig(),
  };
}

export function decodeBatchHeader(bytes: Uint8Array): BatchHeader {
  return readHeader(new ByteReader(bytes));
}

export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  const r = new ByteReader(bytes);
  const h = readHeader(r);
  if (h.from > h.to) throw new WireError(`batch range (${h.from}, ${h.to}] is empty backwards`);
  const tables: string[] = [];
  for (let i = r.uvarint(); i > 0; i--) tables.push(r.str());
  const sites: Buffer[] = [];
  for (let i = r.uvarint(); i > 0; i--) sites.push(Buffer.from(r.bytes()));
  const count = r.uvarint();
  if (count > r.remaining) throw new WireError(`change count ${count} exceeds the payload`);
  const changes: WireChange[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const table = tables[r.uvarint()];
    if (table === undefined) throw new WireError(`change ${i}: table index out of range`);
    const pk = Buffer.from(r.bytes());
    const cid = r.str();
    const val = readValue(r);
    const colVersion = r.uvarintBig();
    const dbVersion = r.uvarintBig();
    const siteId = sites[r.uvarint()];
    if (siteId === undefined) throw new WireError(`change ${i}: site index out of range`);
    changes[i] = { table, pk, cid, val, colVersion, dbVersion, siteId, cl: r.uvarintBig(), seq: r.uvarintBig() };
  }
  const signedEnd = r.at;
  const signature = Buffer.from(r.raw(r.u8()));
  const adminLength = r.u8();
  const adminSignature = adminLength > 0 ? Buffer.from(r.raw(adminLength)) : undefined;
  if (r.remaining !== 0) throw new WireError(`${r.remaining} trailing bytes after the signatures`);
  const batch: ChangeBatch = { ...h, stream: h.stream as StreamName, changes };
  return { batch, signed: r.slice(0, signedEnd), signature, adminSignature };
}
