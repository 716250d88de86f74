/**
 * A tiny SIP callee in the test process, for checks sipp cannot make on what arrives at a callee's
 * media port (the DTMF payload type mapping test). It answers every INVITE with 180 and a 200
 * whose SDP is the caller's choice, answers BYE and CANCEL, keeps every request it got, and
 * records every RTP packet that reaches its media socket (header fields only).
 * UDP on 127.0.0.1; responses go back to the request's source (Outpost's Via carries rport).
 */
import { createSocket, type Socket } from 'node:dgram';

export interface ReceivedRtp {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** First payload byte: the event code for RFC 4733 telephone-events. */
  firstPayloadByte: number;
  /** Payload bytes (after the header and CSRCs). */
  payloadLength: number;
  from: string;
}

export interface SipRequestText {
  method: string;
  uri: string;
  text: string;
  header(name: string): string | undefined;
  body: string;
}

function parseRequest(text: string): SipRequestText | undefined {
  const m = /^([A-Z]+) (\S+) SIP\/2\.0\r\n/.exec(text);
  if (!m) return undefined;
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head!.split('\r\n').slice(1);
  return {
    method: m[1]!,
    uri: m[2]!,
    text,
    body: rest.join('\r\n\r\n'),
    header(name: string) {
      const want = name.toLowerCase();
      const line = lines.find((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === want);
      return line === undefined ? undefined : line.slice(line.indexOf(':') + 1).trim();
    },
  };
}

export class SipCallee {
  readonly requests: SipRequestText[] = [];
  readonly rtp: ReceivedRtp[] = [];
  private readonly responses = new Map<string, Buffer[]>();
  private readonly tag = `callee${Math.random().toString(36).slice(2, 8)}`;

  private constructor(
    readonly sip: Socket,
    readonly media: Socket,
    private readonly answerSdp: (mediaPort: number) => string,
  ) {
    sip.on('message', (data, rinfo) => this.onSip(data.toString('latin1'), rinfo.address, rinfo.port));
    media.on('message', (msg, rinfo) => {
      if (msg.length < 12 || (msg[0]! & 0xc0) !== 0x80) return;
      this.rtp.push({
        payloadType: msg[1]! & 0x7f,
        marker: (msg[1]! & 0x80) !== 0,
        seq: msg.readUInt16BE(2),
        timestamp: msg.readUInt32BE(4),
        ssrc: msg.readUInt32BE(8),
        firstPayloadByte: msg.length > 12 + 4 * (msg[0]! & 0x0f) ? msg[12 + 4 * (msg[0]! & 0x0f)]! : -1,
        payloadLength: Math.max(0, msg.length - 12 - 4 * (msg[0]! & 0x0f)),
        from: `${rinfo.address}:${rinfo.port}`,
      });
    });
  }

  /** `answerSdp` gets the media port and returns the SDP body of the 200. */
  static async start(answerSdp: (mediaPort: number) => string): Promise<SipCallee> {
    const bind = (s: Socket) => new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => resolve());
    });
    const sip = createSocket('udp4');
    const media = createSocket('udp4');
    await bind(sip);
    await bind(media);
    return new SipCallee(sip, media, answerSdp);
  }

  get sipPort(): number {
    return this.sip.address().port;
  }

  get mediaPort(): number {
    return this.media.address().port;
  }

  close(): void {
    this.sip.close();
    this.media.close();
  }

  private onSip(text: string, host: string, port: number): void {
    const req = parseRequest(text);
    if (!req) return; // a response (to nothing we sent) or garbage
    this.requests.push(req);
    const key = `${req.header('call-id')}|${req.header('cseq')}`;
    const earlier = this.responses.get(key);
    if (earlier) {
      for (const r of earlier) this.sip.send(r, port, host); // a retransmission
      return;
    }
    const send = (status: number, reason: string, body?: string) => {
      const res = this.response(req, status, reason, body);
      this.responses.set(key, [...(this.responses.get(key) ?? []), res]);
      this.sip.send(res, port, host);
    };
    switch (req.method) {
      case 'INVITE':
        if (/;\s*tag=/i.test(req.header('to') ?? '')) send(200, 'OK', this.answerSdp(this.mediaPort)); // re-INVITE
        else {
          send(180, 'Ringing');
          send(200, 'OK', this.answerSdp(this.mediaPort));
        }
        return;
      case 'ACK':
        return;
      default:
        send(200, 'OK');
    }
  }

  private response(req: SipRequestText, status: number, reason: string, body?: string): Buffer {
    const head = req.text.split('\r\n\r\n')[0]!.split('\r\n');
    const vias = head.filter((l) => /^(via|v)\s*:/i.test(l));
    let to = req.header('to') ?? '';
    if (!/;\s*tag=/i.test(to)) to += `;tag=${this.tag}`;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...vias,
      `From: ${req.header('from')}`,
      `To: ${to}`,
      `Call-ID: ${req.header('call-id')}`,
      `CSeq: ${req.header('cseq')}`,
    ];
    if (req.method === 'INVITE' && status < 300) lines.push(`Contact: <sip:callee@127.0.0.1:${this.sipPort}>`);
    if (body !== undefined) lines.push('Content-Type: application/sdp');
    const payload = Buffer.from(body ?? '', 'latin1');
    lines.push(`Content-Length: ${payload.length}`, '', '');
    return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), payload]);
  }
}

/** A PCMA answer that lists telephone-event under `eventPt` (the DTMF mapping test uses 96). */
export function pcmaAnswer(mediaPort: number, eventPt: number): string {
  return [
    'v=0',
    `o=callee 1 1 IN IP4 127.0.0.1`,
    's=-',
    `c=IN IP4 127.0.0.1`,
    't=0 0',
    `m=audio ${mediaPort} RTP/AVP 8 ${eventPt}`,
    'a=rtpmap:8 PCMA/8000',
    `a=rtpmap:${eventPt} telephone-event/8000`,
    `a=fmtp:${eventPt} 0-15`,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** An answer with G.729 only (a PSTN gateway that speaks nothing else). */
export function g729Answer(mediaPort: number): string {
  return [
    'v=0',
    `o=gateway 1 1 IN IP4 127.0.0.1`,
    's=-',
    `c=IN IP4 127.0.0.1`,
    't=0 0',
    `m=audio ${mediaPort} RTP/AVP 18`,
    'a=rtpmap:18 G729/8000',
    'a=fmtp:18 annexb=no',
    'a=sendrecv',
    '',
  ].join('\r\n');
}
