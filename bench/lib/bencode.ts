/**
 * Bencode (the BitTorrent encoding), as rtpengine's ng control protocol uses it: integers
 * `i42e`, byte strings `3:abc`, lists `l...e` and dictionaries `d...e` with keys sorted as raw
 * byte strings. Strings decode to JS strings (latin1 would lose nothing, but ng messages are
 * ASCII/UTF-8 text such as SDP, so UTF-8 is used both ways).
 */
import { HarnessError } from './harness-error.ts';

export type BValue = string | number | Buffer | BValue[] | { [key: string]: BValue };

/** Encodes a value; `undefined` dictionary entries are left out. Numbers must be integers. */
export function bencode(value: BValue): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts);
  return Buffer.concat(parts);
}

function encodeInto(value: BValue, parts: Buffer[]): void {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new HarnessError(`bencode: ${value} is not an integer`);
    parts.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const item of value) encodeInto(item, parts);
    parts.push(Buffer.from('e', 'latin1'));
  } else if (typeof value === 'object' && value !== null) {
    parts.push(Buffer.from('d', 'latin1'));
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .map((k) => ({ k, raw: Buffer.from(k, 'utf8') }))
      .sort((x, y) => Buffer.compare(x.raw, y.raw));
    for (const { k, raw } of keys) {
      parts.push(Buffer.from(`${raw.length}:`, 'latin1'), raw);
      encodeInto(value[k]!, parts);
    }
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    throw new HarnessError(`bencode: cannot encode ${typeof value}`);
  }
}

/** Decodes one complete value; throws on malformed input or trailing bytes. */
export function bdecode(data: Buffer): BValue {
  const [value, end] = decodeAt(data, 0, 0);
  if (end !== data.length) throw new HarnessError(`bencode: ${data.length - end} trailing bytes`);
  return value;
}

const MAX_DEPTH = 64;

function decodeAt(data: Buffer, pos: number, depth: number): [BValue, number] {
  if (depth > MAX_DEPTH) throw new HarnessError('bencode: nested too deeply');
  if (pos >= data.length) throw new HarnessError('bencode: unexpected end of input');
  const c = data[pos]!;
  if (c === 0x69 /* i */) {
    const end = data.indexOf(0x65 /* e */, pos + 1);
    if (end < 0) throw new HarnessError('bencode: unterminated integer');
    const text = data.toString('latin1', pos + 1, end);
    if (!/^-?\d+$/.test(text)) throw new HarnessError(`bencode: bad integer ${JSON.stringify(text)}`);
    return [Number(text), end + 1];
  }
  if (c === 0x6c /* l */) {
    const list: BValue[] = [];
    let p = pos + 1;
    while (p < data.length && data[p] !== 0x65) {
      const [item, next] = decodeAt(data, p, depth + 1);
      list.push(item);
      p = next;
    }
    if (p >= data.length) throw new HarnessError('bencode: unterminated list');
    return [list, p + 1];
  }
  if (c === 0x64 /* d */) {
    const dict: { [key: string]: BValue } = {};
    let p = pos + 1;
    while (p < data.length && data[p] !== 0x65) {
      const [key, afterKey] = decodeString(data, p);
      const [item, next] = decodeAt(data, afterKey, depth + 1);
      dict[key.toString('utf8')] = item;
      p = next;
    }
    if (p >= data.length) throw new HarnessError('bencode: unterminated dictionary');
    return [dict, p + 1];
  }
  if (c >= 0x30 && c <= 0x39) {
    const [bytes, next] = decodeString(data, pos);
    return [bytes.toString('utf8'), next];
  }
  throw new HarnessError(`bencode: unexpected byte 0x${c.toString(16)} at ${pos}`);
}

function decodeString(data: Buffer, pos: number): [Buffer, number] {
  const colon = data.indexOf(0x3a /* : */, pos);
  if (colon < 0) throw new HarnessError('bencode: string without length');
  const lenText = data.toString('latin1', pos, colon);
  if (!/^\d+$/.test(lenText)) throw new HarnessError(`bencode: bad string length ${JSON.stringify(lenText)}`);
  const len = Number(lenText);
  const start = colon + 1;
  if (start + len > data.length) throw new HarnessError('bencode: string runs past the end');
  return [data.subarray(start, start + len), start + len];
}
