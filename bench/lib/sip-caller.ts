/**
 * A minimal SIP caller over UDP for the failover bench (bench/failover.ts): an INVITE with a
 * G.711 offer, the 407 digest challenge answered (MD5, bench/lib/sip-register.ts), and the
 * first final response awaited. A 200 is ACKed and the call hung up at once (BYE); a call not
 * answered by `cancel()` is CANCELled (RFC 3261 §9) and left. No media is sent: the bench
 * measures when a call is answered, not what it carries.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { md5Authorization, parseDigestChallenge } from './sip-register.ts';
import { now } from './outpost-process.ts';

export interface CallAttempt {
  /** Epoch ms (sub-ms) of the first INVITE. */
  placedAt: number;
  /** The first final status (not 407) and when it arrived; 0 after cancel() or close. */
  final: Promise<{ status: number; at: number; reason: string }>;
  /** CANCELs the call if no final response came, then closes the socket. */
  cancel(): void;
}

export interface CallOptions {
  target: { host: string; port: number };
  domain: string;
  caller: string;
  password: string;
  callee: string;
  /** Retransmission of the INVITE until a response arrives (ms). */
  retransmitMs?: number;
}

const header = (msg: string, name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im').exec(msg)?.[1]?.trim();

export function placeCall(o: CallOptions): CallAttempt {
  const sock = createSocket('udp4');
  const callId = `failover-${randomBytes(8).toString('hex')}@bench`;
  const fromTag = randomBytes(4).toString('hex');
  const uri = `sip:${o.callee}@${o.domain}`;
  let cseq = 1;
  let branch = '';
  let lastInvite = '';
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveFinal!: (v: { status: number; at: number; reason: string }) => void;
  const final = new Promise<{ status: number; at: number; reason: string }>((r) => (resolveFinal = r));
  const local = () => `127.0.0.1:${sock.address().port}`;
  const send = (text: string) => sock.send(text, o.target.port, o.target.host);
  const request = (method: string, n: number, br: string, to: string, extra: string[] = [], body = '') =>
    [`${method} ${uri} SIP/2.0`, `Via: SIP/2.0/UDP ${local()};branch=${br};rport`, 'Max-Forwards: 70', `From: <sip:${o.caller}@${o.domain}>;tag=${fromTag}`,
      `To: ${to}`, `Call-ID: ${callId}`, `CSeq: ${n} ${method}`, `Contact: <sip:${o.caller}@${local()}>`, ...extra,
      ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const sdp = () => ['v=0', `o=- 1 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sock.address().port + 2} RTP/AVP 8 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', ''].join('\r\n');
  const invite = (extra: string[] = []) => {
    branch = `z9hG4bK-${randomBytes(6).toString('hex')}`;
    lastInvite = request('INVITE', cseq, branch, `<${uri}>`, extra, sdp());
    send(lastInvite);
    clearInterval(timer);
    timer = setInterval(() => send(lastInvite), o.retransmitMs ?? 500);
  };
  let closing = false;
  // Kept open a moment: the 487 after a CANCEL is ACKed, the 200 of the BYE is read.
  const close = () => {
    clearInterval(timer);
    if (closing) return;
    closing = true;
    setTimeout(() => sock.close(), 500).unref();
  };
  const settle = (status: number, reason = '') => {
    if (settled) return;
    settled = true;
    resolveFinal({ status, at: now(), reason });
  };
  sock.on('message', (m) => {
    const text = m.toString('latin1');
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
    if (!status || !new RegExp(`^CSeq:\\s*${cseq}\\s+INVITE`, 'im').test(text)) return;
    clearInterval(timer);
    if (status < 200) return;
    const to = header(text, 'To') ?? `<${uri}>`;
    if (status === 407 && cseq === 1) {
      send(request('ACK', cseq, branch, to));
      const challenge = parseDigestChallenge(header(text, 'Proxy-Authenticate') ?? '');
      cseq = 2;
      if (challenge) return invite([`Proxy-Authorization: ${md5Authorization({ user: o.caller, password: o.password, uri, method: 'INVITE', challenge })}`]);
    }
    if (status >= 300) send(request('ACK', cseq, branch, to));
    else {
      send(request('ACK', cseq, `z9hG4bK-${randomBytes(6).toString('hex')}`, to));
      send(request('BYE', cseq + 1, `z9hG4bK-${randomBytes(6).toString('hex')}`, to));
    }
    settle(status, /^SIP\/2\.0 \d{3} ?([^\r\n]*)/.exec(text)?.[1] ?? '');
    close();
  });
  const placedAt = now();
  sock.bind(0, '127.0.0.1', () => invite());
  return {
    placedAt,
    final,
    cancel() {
      if (settled) return;
      if (lastInvite) send(request('CANCEL', cseq, branch, `<${uri}>`));
      settle(0);
      close();
    },
  };
}
