/**
 * cr-sqlite's packed primary-key format (the `pk` column of crsql_changes): one byte with the
 * column count, then per column a byte `(len << 3) | type` and its bytes. Integers are
 * big-endian in `len` bytes (negative ones: two's complement in 8); text and blobs have a `len`-byte big-endian length
 * and then their bytes; floats are 8 bytes (IEEE 754, big-endian); null has no bytes.
 */
import { StoreError } from './errors.ts';

export type PkValue = null | bigint | number | string | Uint8Array;

const enum ColumnType {
  Integer = 1,
  Float = 2,
  Text = 3,
  Blob = 4,
  Null = 5,
}

export function unpackPrimaryKey(packed: Uint8Array): PkValue[] {
  const bytes = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const fail = (why: string): never => {
    throw new StoreError('store.decode', `malformed packed primary key (${why})`);
  };
  if (bytes.length < 1) fail('empty');
  const count = bytes[0]!;
  const out: PkValue[] = [];
  let at = 1;
  const readUint = (len: number): number => {
    if (len > 6 || at + len > bytes.length) fail('length');
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + bytes[at + i]!;
    at += len;
    return v;
  };
  for (let c = 0; c < count; c++) {
    if (at >= bytes.length) fail('truncated');
    const head = bytes[at++]!;
    const type = head & 0x07;
    const len = head >> 3;
    switch (type) {
      case ColumnType.Integer: {
        if (len > 8 || at + len > bytes.length) fail('integer length');
        let v = 0n;
        for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(bytes[at + i]!);
        // Positive values use as few bytes as they need; negative ones always take all 8.
        if (len === 8) v = BigInt.asIntN(64, v);
        at += len;
        out.push(v);
        break;
      }
      case ColumnType.Float:
        if (at + 8 > bytes.length) fail('float');
        out.push(bytes.readDoubleBE(at));
        at += 8;
        break;
      case ColumnType.Text:
      case ColumnType.Blob: {
        const n = readUint(len);
        if (at + n > bytes.length) fail('text length');
        const slice = bytes.subarray(at, at + n);
        at += n;
        out.push(type === ColumnType.Text ? slice.toString('utf8') : new Uint8Array(slice));
        break;
      }
      case ColumnType.Null:
        out.push(null);
        break;
      default:
        fail(`column type ${type}`);
    }
  }
  if (at !== bytes.length) fail('trailing bytes');
  return out;
}
