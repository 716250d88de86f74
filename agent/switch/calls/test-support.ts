/**
 * Test helpers for the call core: a world with a real Store on a temporary directory, the real
 * digest authenticator, flood guard and transaction layer over a recording transport (the
 * sip/transaction test transport), a recording relay behind the media seam, and the
 * CallController under test. Messages are written as SIP text and parsed with the project's
 * parser. The small `receive` dispatch mirrors what SipEndpoint does with a parsed message.
 * Not used by production code.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../../config/schema.ts';
import { ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { LegName, LegStats, LocalMedia, MediaRelay, RelayCallbacks, RelaySession, RemoteMedia } from '../../media/relay-types.ts';
import { parseAuthParams } from '../../sip/auth/auth-params.ts';
import { computeHa1, computeResponse } from '../../sip/auth/digest.ts';
import { DigestAuthenticator } from '../../sip/auth/digest-authenticator.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import { parseMessage } from '../../sip/message/parse-message.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/message/sip-message.ts';
import { newBranch } from '../../sip/transaction/header-fields.ts';
import { FakeTransport } from '../../sip/transaction/test-support.ts';
import { TransactionLayer } from '../../sip/transaction/transaction-layer.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { CdrRecord } from '../../store/cdrs.ts';
import { Store } from '../../store/store.ts';
import { FloodGuard } from '../flood-guard.ts';
import { CallController, type CallControllerDeps } from './call-controller.ts';
import type { CallSignalling } from './inbound-leg.ts';

export const DOMAIN = 'branch-a.example';
export const CALLER: Endpoint = { protocol: 'udp', address: '192.0.2.10', port: 5060 };
export const CALLEE: Endpoint = { protocol: 'udp', address: '192.0.2.20', port: 5062 };
const BOX = '127.0.0.1:5060';

/** An SDP body: one audio stream on `address:port`, PCMU and telephone-event, in `direction`. */
export function sdp(address: string, port: number, direction = 'sendrecv', version = 1): string {
  return [
    'v=0', `o=party 1 ${version} IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', `a=${direction}`, '',
  ].join('\r\n');
}

/** Parses SIP text (header lines, then the body) with the project's parser. */
export function sip(lines: string[], body = ''): SipMessage {
  const withBody = body === '' ? lines : [...lines, 'Content-Type: application/sdp'];
  const text = [...withBody, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const parsed = parseMessage(Buffer.from(text));
  if (!parsed.ok) throw parsed.error;
  return parsed.message;
}

/** One leg of the recording relay: its ports, and every remote media the call gave it. */
class RecordingSession implements RelaySession {
  readonly updates: Record<LegName, RemoteMedia[]> = { a: [], b: [] };
  released = false;

  constructor(readonly id: string) {}

  local(leg: LegName): LocalMedia {
    const rtpPort = leg === 'a' ? 30000 : 30002;
    return { address: '203.0.113.1', rtpPort, rtcpPort: rtpPort + 1 };
  }

  update(leg: LegName, remote: RemoteMedia): void {
    this.updates[leg].push(remote);
  }

  setTranscoding(): void {}

  stats(): Record<LegName, LegStats> {
    const zero: LegStats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, unexpectedSource: 0, lost: 0, rtcpIn: 0, rtcpOut: 0, malformed: 0, unroutable: 0, latchedTo: null };
    return { a: zero, b: zero };
  }

  release(): void {
    this.released = true;
  }
}

/** The media seam (relay-types.ts) without sockets: sessions record what the call tells them. */
export class RecordingRelay implements MediaRelay {
  readonly sessions: RecordingSession[] = [];
  readonly timeouts: Array<() => void> = [];

  get activeSessions(): number {
    return this.sessions.filter((s) => !s.released).length;
  }

  allocate(callId: string, callbacks: RelayCallbacks): Promise<RelaySession> {
    const session = new RecordingSession(callId);
    this.sessions.push(session);
    this.timeouts.push(() => callbacks.onMediaTimeout(session));
    return Promise.resolve(session);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** The endpoint's UAC side over a transaction layer whose transport records every send. */
function signallingOver(layer: TransactionLayer, transport: FakeTransport): CallSignalling {
  return {
    request: (req, dest, user) => layer.createClientTransaction(req, dest, transport, user),
    sendStateless: (message, dest) => void transport.send(message, dest),
    viaFor: () => `SIP/2.0/UDP ${BOX};branch=${newBranch()};rport`,
    contactFor: () => `sip:outpost@${BOX}`,
  };
}

export type CallWorld = ReturnType<typeof callWorld>;

/**
 * Users 1001 (caller) and 1002 (callee, registered at CALLEE on this node); `calls` overrides
 * config; `interBox` gives the box its peers and node assertion (node a1 of branch-a).
 */
export function callWorld(calls: Record<string, number> = {}, interBox: Pick<CallControllerDeps, 'assertion' | 'peers' | 'peersOnlyTls'> = {}) {
  const config = ConfigSchema.parse({ node: { id: 'a1', site: 'branch-a' }, dataDir: '/unused', sip: { domain: DOMAIN, listen: ['udp:127.0.0.1:0'] }, calls });
  const clock = new ManualClock();
  const logger = createSilentLogger();
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-calls-')) });
  for (const ext of ['1001', '1002', '1003']) {
    store.users.upsert({ ext, displayName: ext === '1001' ? 'Ann Example' : '', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1(ext, DOMAIN, `pw-${ext}`, 'MD5'), ha1Sha256: '' }, 0);
  }
  store.registrations.upsert({
    aor: '1002', contact: `sip:1002@${CALLEE.address}:${CALLEE.port}`, nodeId: 'a1', expiresAt: clock.now() + 3_600_000, q: 1, callId: 'reg-1002', cseq: 1,
    path: '', userAgent: 'test', received: `udp:${CALLEE.address}:${CALLEE.port}`, instanceId: '', regId: 0, updatedAt: clock.now(),
  });
  const transport = new FakeTransport(clock);
  const layer = new TransactionLayer({ clock, logger, transportFor: () => transport });
  const relay = new RecordingRelay();
  const authenticator = new DigestAuthenticator({ realm: DOMAIN, clock, algorithms: ['MD5'] });
  const flood = new FloodGuard(config.sip.flood, { clock, store, nodeId: 'a1', logger });
  const controller = new CallController({
    endpoint: signallingOver(layer, transport), store, relay, authenticator, flood, nodeId: 'a1', site: 'branch-a', domain: DOMAIN,
    config: config.calls, codecs: { available: [], boxDefault: config.rtp.codecs }, timers: { t1: 500, t2: 4000 }, clock, logger, ...interBox,
  });
  let seq = 0;

  /** Hands a message to the box as SipEndpoint would: responses to their transaction, requests to the controller. */
  const receive = (msg: SipMessage, source: Endpoint = CALLER): void => {
    if (msg.type === 'response') return void layer.handleResponse(msg);
    const tx = layer.handleRequest(msg, source, transport);
    if (tx === 'absorbed') return;
    if (tx === 'ack-no-transaction') return controller.handleAck(msg);
    if (msg.method === 'CANCEL') {
      const invite = layer.findInviteServerTransaction(msg);
      tx.respond(createResponse(msg, invite ? 200 : 481, invite ? 'OK' : 'Call/Transaction Does Not Exist'));
      if (invite) controller.handleCancel(invite);
      return;
    }
    controller.handle({ request: msg, source, transport, transaction: tx, respond: (res) => tx.respond(res) });
  };

  /** Every message the box sent to `dest`, in order. */
  const sentTo = (dest: Endpoint): SipMessage[] => transport.sent.filter((s) => s.dest.address === dest.address && s.dest.port === dest.port).map((s) => s.message);
  const requestsTo = (dest: Endpoint, method: string) => sentTo(dest).filter((m): m is SipRequest => m.type === 'request' && m.method === method);
  const responsesTo = (dest: Endpoint) => sentTo(dest).filter((m): m is SipResponse => m.type === 'response');
  const statusesTo = (dest: Endpoint) => responsesTo(dest).map((r) => r.status);

  /** Proxy-Authorization for `user` answering a fresh challenge of the box (RFC 2617 §3.2.2, qop=auth). */
  const credentials = (user: string, uri: string): string => {
    const params = parseAuthParams(authenticator.challenge(false)[0]!).params;
    const nonce = params.get('nonce')!;
    const ha1 = computeHa1(user, DOMAIN, `pw-${user}`, 'MD5');
    const response = computeResponse({ ha1, method: 'INVITE', uri, nonce, nc: '00000001', cnonce: 'c0ffee', qop: 'auth', algorithm: 'MD5' });
    return `Digest username="${user}", realm="${DOMAIN}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`;
  };

  /** A caller's INVITE for `callee` (with credentials unless `auth` is false). */
  const invite = (o: { from?: string; callee?: string; auth?: boolean; headers?: string[]; body?: string } = {}): SipRequest => {
    const from = o.from ?? '1001';
    const uri = `sip:${o.callee ?? '1002'}@${DOMAIN}`;
    const n = ++seq;
    return sip([
      `INVITE ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${CALLER.address}:${CALLER.port};branch=z9hG4bK-inv-${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:${from}@${DOMAIN}>;tag=caller-${n}`,
      `To: <${uri}>`,
      `Call-ID: call-${n}@${CALLER.address}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:${from}@${CALLER.address}:${CALLER.port}>`,
      ...(o.auth === false ? [] : [`Proxy-Authorization: ${credentials(from, uri)}`]),
      ...(o.headers ?? []),
    ], o.body ?? sdp(CALLER.address, 20000)) as SipRequest;
  };

  /** A request inside the dialog of `ok` (a 2xx the box sent the caller), from the caller. */
  const fromCaller = (ok: SipResponse, method: string, cseq: number, body = '', headers: string[] = []): SipRequest =>
    sip([
      `${method} sip:outpost@${BOX} SIP/2.0`,
      `Via: SIP/2.0/UDP ${CALLER.address}:${CALLER.port};branch=${newBranch()};rport`,
      'Max-Forwards: 70',
      `From: ${ok.headers.get('from')}`,
      `To: ${ok.headers.get('to')}`,
      `Call-ID: ${ok.headers.get('call-id')}`,
      `CSeq: ${cseq} ${method}`,
      ...(method === 'INVITE' || method === 'UPDATE' ? [`Contact: <sip:1001@${CALLER.address}:${CALLER.port}>`] : []),
      ...headers,
    ], body) as SipRequest;

  /** The callee's response to `req` (an INVITE or in-dialog request the box sent it). */
  const calleeResponse = (req: SipRequest, status: number, reason: string, body = ''): SipResponse => {
    const to = req.headers.get('to')!;
    return sip([
      `SIP/2.0 ${status} ${reason}`,
      ...req.headers.getAll('via').map((v) => `Via: ${v}`),
      `From: ${req.headers.get('from')}`,
      `To: ${status === 100 || to.includes('tag=') ? to : `${to};tag=callee-tag`}`,
      `Call-ID: ${req.headers.get('call-id')}`,
      `CSeq: ${req.headers.get('cseq')}`,
      ...(status > 100 && status < 300 ? [`Contact: <sip:1002@${CALLEE.address}:${CALLEE.port}>`] : []),
    ], body) as SipResponse;
  };

  /** A request from the callee inside the dialog of the box's INVITE `inv` it answered. */
  const fromCallee = (inv: SipRequest, method: string, cseq: number, body = ''): SipRequest =>
    sip([
      `${method} sip:outpost@${BOX} SIP/2.0`,
      `Via: SIP/2.0/UDP ${CALLEE.address}:${CALLEE.port};branch=${newBranch()};rport`,
      'Max-Forwards: 70',
      `From: ${inv.headers.get('to')};tag=callee-tag`,
      `To: ${inv.headers.get('from')}`,
      `Call-ID: ${inv.headers.get('call-id')}`,
      `CSeq: ${cseq} ${method}`,
      ...(method === 'INVITE' || method === 'UPDATE' ? [`Contact: <sip:1002@${CALLEE.address}:${CALLEE.port}>`] : []),
    ], body) as SipRequest;

  /** The caller's INVITE, through admission and the relay allocation; returns the INVITE the callee got. */
  const dial = async (req: SipRequest = invite()): Promise<{ req: SipRequest; b: SipRequest }> => {
    const before = requestsTo(CALLEE, 'INVITE').length;
    receive(req);
    await flush();
    const b = requestsTo(CALLEE, 'INVITE')[before];
    assert.ok(b, `the callee got an INVITE (caller got ${statusesTo(CALLER).join(',')})`);
    return { req, b };
  };

  /** A call answered by the callee and ACKed by the caller; returns the messages of both legs. */
  const answeredCall = async () => {
    const { req, b } = await dial();
    receive(calleeResponse(b, 180, 'Ringing'), CALLEE);
    receive(calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
    const ok = responsesTo(CALLER).find((r) => r.status === 200)!;
    assert.ok(ok, 'the caller got a 200');
    receive(fromCaller(ok, 'ACK', 1));
    return { req, b, ok };
  };

  /** The CDRs written so far (the store's group commit runs on real timers: waits up to 2 s for `count`). */
  const cdrs = async (count = 1): Promise<CdrRecord[]> => {
    for (let i = 0; i < 200; i++) {
      const rows = store.cdrs.since(0);
      if (rows.length >= count) return rows;
      await new Promise((r) => setTimeout(r, 10));
    }
    return store.cdrs.since(0);
  };

  /** Fields of the first CDR, once written. */
  const cdr = async <K extends keyof CdrRecord>(...fields: K[]): Promise<Array<CdrRecord[K]>> => {
    const [row] = await cdrs();
    assert.ok(row, 'a CDR was written');
    return fields.map((f) => row[f]);
  };

  const close = async () => {
    await controller.stop();
    layer.stop();
    store.close();
  };

  return { clock, store, transport, relay, controller, receive, sentTo, requestsTo, responsesTo, statusesTo, invite, fromCaller, fromCallee, calleeResponse, dial, answeredCall, cdrs, cdr, close };
}

/** Lets promise continuations run (the relay allocation the INVITE awaits). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
