/**
 * A growable byte writer and a bounds-checked reader: unsigned LEB128 varints (numbers and
 * bigints), zig-zag signed varints, length-prefixed strings and bytes, float64. Reading past the
 * end or an over-long varint throws WireError, so a malformed payload is an error, not a crash.
 */
export class WireError extends Error {
  override readonly name = 'WireError';
  readonly code = 'wire.malformed';
}

export class ByteWriter {
  private buf: Buffer;
  private at = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  uvarint(v: number | bigint): void {
    if (typeof v === 'number' || v <= 0x1fffffffffffffn) {
      let n = Number(v);
      if (n < 0) throw new RangeError('uvarint of a negative number');
      this.room(8);
      while (n >= 0x80) {
        this.buf[this.at++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
      this.buf[this.at++] = n;
      return;
    }
    let b = v;
    this.room(10);
    while (b >= 0x80n) {
      this.buf[this.at++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.at++] = Number(b);
  }

  /** Signed 64-bit integer, zig-zag encoded. */
  svarint(v: bigint): void {
    this.uvarint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.room(n);
    this.buf.write(s, this.at, 'utf8');
    this.at += n;
  }

  get length(): number {
    return this.at;
  }

  /** The bytes written so far (a copy, safe to keep). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}

export class ByteReader {
  private readonly buf: Buffer;
  at = 0;

  constructor(buf: Uint8Array) {
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new WireError(`truncated at byte ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
    throw new WireError(`varint too long at byte ${this.at}`);
  }

  uvarintBig(): bigint {
    let n = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n;
      shift += 7n;
    }
    throw new WireError(`varint too long at byte ${this.at}`);
  }

  svarint(): bigint {
    const z = this.uvarintBig();
    return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  raw(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  bytes(): Buffer {
    const n = this.uvarint();
    this.need(n);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  str(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from, to);
  }
}
