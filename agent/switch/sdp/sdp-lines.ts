/**
 * The line-level checks of an SDP body (RFC 4566 §5) that sdp-transform does not make: it skips
 * any line it cannot read, so a broken c= or m= line would silently vanish and the call would be
 * anchored to the wrong address. Here every line must be `<type>=<value>`; v=, o=, c= and m=
 * must follow their grammar. Trailing white space and blank lines are forgiven (common in the
 * wild), and LF-only or CR-only line ends are accepted as well as CRLF.
 *
 * Throws SdpError; `parseSdp` turns it into its return value.
 */
import { isIP } from 'node:net';
import { SdpError } from './errors.ts';

/** A SIP body over UDP cannot be larger; anything bigger is not an SDP we would send on. */
export const MAX_SDP_BYTES = 65_535;

const TYPE_LINE = /^[a-z]=/;
// Tab is allowed inside values (seen in s= and i= lines); other control characters are not.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const V_LINE = /^v=0$/;
const O_LINE = /^o=\S+ \d+ \d+ IN IP[46] \S+$/;
// c=IN IP4 <address>[/<ttl>[/<count>]] (RFC 4566 §5.7); the suffixes only exist for multicast.
const C_LINE = /^c=IN IP([46]) ([^\s/]+)((?:\/\d+){0,2})$/;
// m=<media> <port>[/<count>] <proto> <fmt> ... (RFC 4566 §5.14), one space between fields.
// Media and proto tokens restricted to what sdp-transform reads (\w, and / in proto).
const M_LINE = /^m=\w+ (\d{1,5})(\/\d+)? [\w/]+(?: \S+)+$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** The body as checked lines, white space trimmed and blank lines dropped. */
export function sdpLines(text: string): string[] {
  if (Buffer.byteLength(text) > MAX_SDP_BYTES) throw new SdpError('sdp.malformed', 'SDP too large');
  const raw = text.split(/\r\n|\r|\n/);
  const lines: string[] = [];
  let origins = 0;
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!.trimEnd();
    if (line === '') continue;
    const n = i + 1;
    // v=0 opens the body, and only once (a second v= would start another session).
    if ((lines.length === 0) !== (line[0] === 'v') || (line[0] === 'v' && !V_LINE.test(line))) {
      throw new SdpError('sdp.malformed', 'Bad v= line', n);
    }
    if (!TYPE_LINE.test(line) || CONTROL.test(line)) throw new SdpError('sdp.malformed', 'Bad SDP line', n);
    switch (line[0]) {
      case 'o':
        if (!O_LINE.test(line) || ++origins > 1) throw new SdpError('sdp.malformed', 'Bad o= line', n);
        break;
      case 'c':
        checkConnection(line, n);
        break;
      case 'm':
        checkMedia(line, n);
        break;
    }
    lines.push(line);
  }
  if (lines.length === 0) throw new SdpError('sdp.malformed', 'Empty SDP');
  if (origins === 0) throw new SdpError('sdp.malformed', 'Bad o= line');
  return lines;
}

function checkConnection(line: string, n: number): void {
  const m = C_LINE.exec(line);
  if (!m) throw new SdpError('sdp.malformed', 'Bad c= line', n);
  const version = Number(m[1]);
  const address = m[2]!;
  if (m[3]) throw new SdpError('sdp.unsupported', 'Multicast not supported', n);
  const family = isIP(address);
  if (family === 0) {
    // RFC 4566 allows a domain name here; the relay needs an address to send to and latch on.
    if (HOSTNAME.test(address) && /[A-Za-z]/.test(address.split('.').pop()!)) throw new SdpError('sdp.unsupported', 'Unsupported c= address', n);
    throw new SdpError('sdp.malformed', 'Bad c= line', n);
  }
  if (family !== version) throw new SdpError('sdp.malformed', 'Bad c= line', n);
  if (isMulticast(address, family)) throw new SdpError('sdp.unsupported', 'Multicast not supported', n);
}

function checkMedia(line: string, n: number): void {
  const m = M_LINE.exec(line);
  if (!m || Number(m[1]) > 65_535) throw new SdpError('sdp.malformed', 'Bad m= line', n);
  // A port count asks for several consecutive RTP sessions (layered coding); not relayed.
  if (m[2]) throw new SdpError('sdp.unsupported', 'Port count not supported', n);
}

function isMulticast(address: string, family: number): boolean {
  if (family === 6) return address.toLowerCase().startsWith('ff');
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}
