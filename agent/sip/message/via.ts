/**
 * One Via header value (RFC 3261 §20.42, §25.1 via-parm): sent-protocol, sent-by and via
 * parameters. LWS is allowed around "/" and ":" (RFC 4475 §3.1.1.1), any transport token is
 * accepted (§3.1.1.10), and `received` may hold an IPv6 address with or without brackets
 * (RFC 5118 §4.5). The parser works on one list element: the message parser splits the commas.
 */
import { SipParseError } from './errors.ts';
import { type HeaderParams, formatHeaderParams, mergeParams, parseHeaderParams } from './header-params.ts';
import { hostEnd, isHost, isIpAddress, readPort } from './host.ts';
import { TOKEN, isToken, isWsp, scan, skipWsp } from './sip-chars.ts';

export interface Via {
  /** `name/version`, e.g. `SIP/2.0` (name upper-cased). */
  protocol: string;
  /** Upper-cased transport token: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or any other. */
  transport: string;
  /** sent-by host as written; IPv6 references keep their brackets. */
  host: string;
  port?: number;
  /** Every via parameter in order (names lower-cased, null for a flag). Formatting writes these. */
  params: HeaderParams;
  /** Named views of params. On format, a set field overrides or adds the parameter. */
  branch?: string;
  /** The received address without brackets. */
  received?: string;
  /** `true` for a bare `;rport` (RFC 3581 request), a number once filled in. */
  rport?: number | true;
  maddr?: string;
  ttl?: number;
}

/** Parses one via-parm; throws SipParseError with an offset in `s`. */
export function parseVia(s: string): Via {
  let pos = skipWsp(s, 0);
  const nameEnd = scan(s, pos, TOKEN);
  const name = s.slice(pos, nameEnd);
  pos = slash(s, nameEnd);
  const verEnd = scan(s, pos, TOKEN);
  const version = s.slice(pos, verEnd);
  pos = slash(s, verEnd);
  const trEnd = scan(s, pos, TOKEN);
  const transport = s.slice(pos, trEnd);
  if (name === '' || version === '' || transport === '') throw new SipParseError('bad sent-protocol', pos);
  if (!isWsp(s.charCodeAt(trEnd))) throw new SipParseError('missing sent-by', trEnd);
  pos = skipWsp(s, trEnd);
  const he = hostEnd(s, pos);
  if (he < 0) throw new SipParseError('bad sent-by host', pos);
  const via: Via = {
    protocol: name === 'SIP' && version === '2.0' ? 'SIP/2.0' : name.toUpperCase() + '/' + version,
    transport: upper(transport),
    host: s.slice(pos, he),
    params: new Map(),
  };
  pos = skipWsp(s, he);
  if (s.charCodeAt(pos) === 58) {
    const port = readPort(s, skipWsp(s, pos + 1));
    if (port === undefined) throw new SipParseError('bad sent-by port', pos + 1);
    via.port = port[0];
    pos = port[1];
  }
  const { params } = parseHeaderParams(s, pos);
  via.params = params;
  readNamed(via, params, pos);
  return via;
}

const TRANSPORTS = new Map(['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'].map((t) => [t, t]));

function upper(t: string): string {
  return TRANSPORTS.get(t) ?? t.toUpperCase();
}

function slash(s: string, pos: number): number {
  pos = skipWsp(s, pos);
  if (s.charCodeAt(pos) !== 47) throw new SipParseError('bad sent-protocol', pos);
  return skipWsp(s, pos + 1);
}

function readNamed(via: Via, params: HeaderParams, offset: number): void {
  const branch = params.get('branch');
  if (branch !== undefined) {
    if (branch === null || !isToken(branch)) throw new SipParseError('bad branch', offset);
    via.branch = branch;
  }
  const received = params.get('received');
  if (received !== undefined) {
    if (received === null || !isIpAddress(received)) throw new SipParseError('bad received', offset);
    via.received = received.startsWith('[') ? received.slice(1, -1) : received;
  }
  const rport = params.get('rport');
  if (rport !== undefined) {
    if (rport === null) via.rport = true;
    else {
      const p = readPort(rport, 0);
      if (p === undefined || p[1] !== rport.length) throw new SipParseError('bad rport', offset);
      via.rport = p[0];
    }
  }
  const maddr = params.get('maddr');
  if (maddr !== undefined) {
    if (maddr === null || !isHost(maddr)) throw new SipParseError('bad maddr', offset);
    via.maddr = maddr;
  }
  const ttl = params.get('ttl');
  if (ttl !== undefined) {
    if (ttl === null || !/^\d{1,3}$/.test(ttl) || Number(ttl) > 255) throw new SipParseError('bad ttl', offset);
    via.ttl = Number(ttl);
  }
}

/** Writes a Via value: `SIP/2.0/UDP host:port;params` (named fields override params). */
export function formatVia(via: Via): string {
  const host = via.host.indexOf(':') >= 0 && !via.host.startsWith('[') ? '[' + via.host + ']' : via.host;
  let out = via.protocol + '/' + via.transport + ' ' + host;
  if (via.port !== undefined) out += ':' + via.port;
  const received =
    via.received !== undefined && via.received.indexOf(':') >= 0 && via.params.get('received')?.startsWith('[')
      ? '[' + via.received + ']'
      : via.received;
  const params = mergeParams(via.params, {
    branch: via.branch,
    received,
    rport: via.rport === undefined ? undefined : via.rport === true ? null : String(via.rport),
    maddr: via.maddr,
    ttl: via.ttl === undefined ? undefined : String(via.ttl),
  });
  return out + formatHeaderParams(params);
}
