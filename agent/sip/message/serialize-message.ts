/**
 * serializeMessage: the SipMessage model to wire bytes (RFC 3261 §7). Start line with
 * `SIP/2.0`, one `Name: value` line per header entry under its canonical name, CRLF line ends,
 * a blank line, then the body. Content-Length is always written and always equals
 * body.length: it takes the place of the first Content-Length entry (any others are dropped)
 * or is appended after the last header when there was none (§18.3, §20.14).
 *
 * CR and LF inside a value (which a parsed message never holds) are replaced by a space, so a
 * value set by a higher layer can never inject a header line or end the header section early.
 */
import { type SipMessage, canonicalHeaderName } from './sip-message.ts';

const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]+/g;

/** Writes a message to bytes (headers as UTF-8). */
export function serializeMessage(msg: SipMessage): Buffer {
  let out =
    msg.type === 'request'
      ? clean(msg.method) + ' ' + clean(msg.uri) + ' SIP/2.0\r\n'
      : 'SIP/2.0 ' + statusText(msg.status) + ' ' + clean(msg.reason) + '\r\n';
  const length = String(msg.body.length);
  let lengthWritten = false;
  for (const h of msg.headers.list) {
    const name = canonicalHeaderName(h.name);
    if (name === 'Content-Length') {
      if (!lengthWritten) out += 'Content-Length: ' + length + '\r\n';
      lengthWritten = true;
      continue;
    }
    out += clean(name) + ': ' + clean(h.value) + '\r\n';
  }
  if (!lengthWritten) out += 'Content-Length: ' + length + '\r\n';
  out += '\r\n';
  if (msg.body.length === 0) return Buffer.from(out, 'utf8');
  const headLength = Buffer.byteLength(out, 'utf8');
  const buf = Buffer.allocUnsafe(headLength + msg.body.length);
  buf.write(out, 0, 'utf8');
  msg.body.copy(buf, headLength);
  return buf;
}

function clean(s: string): string {
  return LINE_BREAK.test(s) ? s.replace(LINE_BREAKS, ' ') : s;
}

/** Three digits, whatever the model holds (a bad status never reaches the wire as garbage). */
function statusText(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 699 ? String(status) : '500';
}
