/**
 * SipStreamFramer: cuts a TCP/TLS byte stream into whole SIP messages (RFC 3261 §18.3): the
 * header section runs to the first blank line, then exactly Content-Length octets of body.
 * On a stream Content-Length is mandatory; a message without one, with a bad one or with two
 * that disagree cannot be framed, so the framer stops and sets `error`: the connection must be
 * closed (RFC 4475 §3.1.2.3, §3.3.9).
 *
 * CRLFs between messages are skipped (§7.5). A double CRLF there is an RFC 5626 §3.5.1
 * keep-alive ping: `onPing` is called and `pings` counts it; the caller answers with one CRLF.
 * Memory is bounded: a header section above maxHeaderBytes, or a message above
 * maxMessageBytes, is an error, so a peer cannot make the buffer grow without limit.
 */
import { SipParseError } from './errors.ts';

export interface SipStreamFramerOptions {
  /** Largest header section accepted, in bytes (default 16 KiB). */
  maxHeaderBytes?: number;
  /** Largest whole message (header section + body) accepted, in bytes (default 64 KiB). */
  maxMessageBytes?: number;
  /** Called once per CRLFCRLF keep-alive ping seen between messages. */
  onPing?: () => void;
}

const BLANK_CRLF = Buffer.from('\n\r\n', 'latin1');
const BLANK_LF = Buffer.from('\n\n', 'latin1');

export class SipStreamFramer {
  readonly #maxHeader: number;
  readonly #maxMessage: number;
  readonly #onPing: (() => void) | undefined;
  #store = Buffer.alloc(0);
  #len = 0;
  /** Bytes of the pending message already searched for the blank line. */
  #scanned = 0;
  /** Length of the pending message once its header section is complete, else -1. */
  #frame = -1;
  /** Consecutive LFs seen between messages; two make a ping. */
  #newlines = 0;
  #pings = 0;
  #error: SipParseError | undefined;

  constructor(options: SipStreamFramerOptions = {}) {
    this.#maxHeader = options.maxHeaderBytes ?? 16 * 1024;
    this.#maxMessage = options.maxMessageBytes ?? 64 * 1024;
    this.#onPing = options.onPing;
  }

  /** Set when the stream cannot be framed any more; the connection must then be closed. */
  get error(): SipParseError | undefined {
    return this.#error;
  }

  /** Number of keep-alive pings seen so far. */
  get pings(): number {
    return this.#pings;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.#len;
  }

  /**
   * Adds bytes read from the connection; returns the messages they complete, in order (each
   * one Buffer holding exactly one message; it may share memory with `chunk`, so do not reuse
   * a pushed chunk). After an error it returns nothing.
   */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.#error !== undefined || chunk.length === 0) return out;
    const owned = this.#len > 0;
    if (owned) this.#append(chunk);
    const data = owned ? this.#store.subarray(0, this.#len) : chunk;
    let pos = 0;
    while (pos < data.length) {
      if (this.#frame < 0) {
        if (this.#scanned === 0) {
          pos = this.#skipKeepAlives(data, pos);
          if (pos === data.length) break;
        }
        const found = findBlankLine(data, pos, pos + this.#scanned);
        if (found === undefined) {
          const pending = data.length - pos;
          if (pending > this.#maxHeader) return this.#fail(out, 'Header section too large');
          this.#scanned = Math.max(0, pending - 2);
          break;
        }
        if (found[0] - pos > this.#maxHeader) return this.#fail(out, 'Header section too large');
        const declared = declaredLength(data.toString('latin1', pos, found[0]));
        if (typeof declared === 'string') return this.#fail(out, declared);
        const frame = found[1] - pos + declared;
        if (frame > this.#maxMessage) return this.#fail(out, 'Message too large');
        this.#frame = frame;
        this.#scanned = 0;
      }
      if (data.length - pos < this.#frame) break;
      const message = data.subarray(pos, pos + this.#frame);
      out.push(owned ? Buffer.from(message) : message);
      pos += this.#frame;
      this.#frame = -1;
    }
    if (owned) {
      if (pos > 0) this.#store.copyWithin(0, pos, this.#len);
      this.#len -= pos;
    } else if (pos < data.length) this.#append(data.subarray(pos));
    return out;
  }

  #skipKeepAlives(data: Buffer, pos: number): number {
    for (; pos < data.length; pos++) {
      const c = data[pos];
      if (c === 10) {
        if (++this.#newlines === 2) {
          this.#newlines = 0;
          this.#pings++;
          this.#onPing?.();
        }
      } else if (c !== 13) {
        this.#newlines = 0;
        break;
      }
    }
    return pos;
  }

  #append(chunk: Buffer): void {
    const need = this.#len + chunk.length;
    if (need > this.#store.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#store.length * 2, 4096));
      this.#store.copy(grown, 0, 0, this.#len);
      this.#store = grown;
    }
    chunk.copy(this.#store, this.#len);
    this.#len = need;
  }

  #fail(out: Buffer[], reason: string): Buffer[] {
    this.#error = new SipParseError(reason, 0, reason.includes('Content-Length') ? 'Content-Length' : undefined);
    this.#store = Buffer.alloc(0);
    this.#len = 0;
    return out;
  }
}

/** [end of header section, start of body] of the message at `start`, searching from `from`. */
function findBlankLine(data: Buffer, start: number, from: number): [number, number] | undefined {
  const a = data.indexOf(BLANK_CRLF, from);
  const b = (a < 0 ? data : data.subarray(0, a + 1)).indexOf(BLANK_LF, from);
  if (b >= start) return [b + 1, b + 2];
  if (a >= start) return [a + 1, a + 3];
  return undefined;
}

/** The Content-Length of a header section (compact `l` too), or the reason it has none. */
function declaredLength(head: string): number | string {
  let result = -1;
  let pos = head.indexOf('\n') + 1; // skip the start line
  let colon = -1; // next ':' at or after pos, -2 when none is left (searched again only once passed)
  while (pos > 0 && pos < head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    if (colon !== -2 && colon < pos) {
      colon = head.indexOf(':', pos);
      if (colon < 0) colon = -2;
    }
    const c = head.charCodeAt(pos);
    if (c !== 32 && c !== 9 && colon > pos && colon < nl) {
      const name = head.slice(pos, colon).trim().toLowerCase();
      if (name === 'content-length' || name === 'l') {
        let value = head.slice(colon + 1, nl);
        while (nl + 1 < head.length && (head.charCodeAt(nl + 1) === 32 || head.charCodeAt(nl + 1) === 9)) {
          const next = head.indexOf('\n', nl + 1);
          const end = next < 0 ? head.length : next;
          value += ' ' + head.slice(nl + 1, end);
          nl = end;
        }
        value = value.trim();
        if (!/^[0-9]{1,10}$/.test(value)) return 'Bad Content-Length';
        const n = Number(value);
        if (result >= 0 && n !== result) return 'Conflicting Content-Length';
        result = n;
      }
    }
    pos = nl + 1;
  }
  return result < 0 ? 'Missing Content-Length' : result;
}
