/**
 * Whether the box takes a new INVITE (docs/calls.md §1): Max-Forwards (483 at zero, RFC 3261
 * §16.3), a Call-ID of one of the box's own INVITEs (482), digest authentication
 * with 407 (RFC 3261 §22.3, RFC 8760) unless a box of the site vouches for the caller with a
 * verified Outpost-Node header (node-assertion.ts; a header that fails gets 403), the box's and the caller's call limits, the callee's
 * limit (asked by routing), and then the session: the RFC 4028 session timer (422) and an
 * SDP offer the box can use. A refusal is the response to send; nothing is stored.
 */
import type { Config } from '../../config/schema.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DigestAuthenticator } from '../../sip/auth/digest-authenticator.ts';
import { answerSessionTimer, type SessionTimerAnswer } from '../../sip/dialog/session-timer.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import type { SipRequest, SipResponse } from '../../sip/message/sip-message.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import type { Store } from '../../store/store.ts';
import type { FloodGuard } from '../flood-guard.ts';
import { authenticateRequest } from '../request-auth.ts';
import { parseSdp, type SessionDescription } from '../sdp/session-description.ts';
import type { CallSessionTimer } from './call.ts';
import { fromUser, type NodeAssertion } from './node-assertion.ts';
import { PEER_TLS_REQUIRED, peerTransportRefusal } from '../../sip/transport/tls-peers.ts';

export interface CallAdmissionDeps {
  authenticator: DigestAuthenticator;
  store: Store;
  flood: FloodGuard;
  logger: Logger;
  /** The box's site (users of other sites may not call from here). */
  site?: string;
  config: Pick<Config['calls'], 'maxTotal' | 'maxPerUser' | 'minSE' | 'sessionExpires'>;
  /** Calls in progress on the box, and those `user` is in (the registry's counts). */
  activeCalls(): number;
  callsOf(user: string): number;
  /** True when `callId` is one of the box's own INVITEs coming back (a loop). */
  isOwnCallId(callId: string): boolean;
  /** Checks the Outpost-Node header of requests from the site's other boxes. */
  assertion?: NodeAssertion;
  /** `sip.tls.peersOnly`: a verified inter-box request is taken only over mutual TLS. */
  peersOnlyTls?: boolean;
}

/**
 * A caller the box takes: its user name and the Max-Forwards left for the callee's INVITE;
 * `peer` names the box of the site that forwarded the call (it authenticated the caller), and
 * `link` is the CDR link it signed ('' when none).
 */
export type CallerVerdict = { ok: true; caller: string; maxForwards: number; peer?: string; link?: string } | { ok: false; response: SipResponse };

/** The session the box takes: the caller's offer, and the session timer when the caller refreshes. */
export type SessionVerdict = { ok: true; offer: SessionDescription; sessionTimer: CallSessionTimer | undefined } | { ok: false; response: SipResponse };

export class CallAdmission {
  constructor(private readonly deps: CallAdmissionDeps) {}

  /** Checks 1-5 of docs/calls.md §1: hops, loop, authentication, the box's and the caller's limits. */
  admitCaller(req: SipRequest, source: Endpoint): CallerVerdict {
    const d = this.deps;
    const refuse = (status: number, reason: string, headers: Array<[string, string]> = []): CallerVerdict => ({ ok: false, response: refusal(req, status, reason, headers) });
    const maxForwards = Number(req.headers.get('max-forwards') ?? '70');
    if (!Number.isInteger(maxForwards) || maxForwards < 0) return refuse(400, 'Bad Max-Forwards');
    if (maxForwards === 0) return refuse(483, 'Too Many Hops');
    if (d.isOwnCallId(req.headers.get('call-id') ?? '')) return refuse(482, 'Loop Detected');
    const vouched = this.peerOf(req, source);
    if (vouched === false) return refuse(403, 'Forbidden');
    const plain = vouched && peerTransportRefusal(d.peersOnlyTls ?? false, source, vouched.node);
    if (plain) {
      d.logger.warn({ node: vouched.node, reason: 'tls-required', detail: plain, ip: source.address, port: source.port, callId: req.headers.get('call-id') }, 'inter-box request refused');
      return refuse(403, PEER_TLS_REQUIRED);
    }
    const peer = vouched?.node;
    const auth = peer ? { ok: true as const, username: fromUser(req.headers.get('from') ?? '') } : authenticateRequest(req, source, 'proxy', d);
    if (!auth.ok) return auth;
    if (auth.username === '') return refuse(400, 'Bad From user part');
    if (d.activeCalls() >= d.config.maxTotal) return refuse(503, 'Call limit of this box reached', [['Retry-After', '30']]);
    if (d.callsOf(auth.username) >= d.config.maxPerUser) return refuse(486, 'Call limit reached for caller');
    return { ok: true, caller: auth.username, maxForwards, ...(vouched ? { peer: vouched.node, link: vouched.link } : {}) };
  }

  /**
   * The box of the site that vouches for this request (a verified Outpost-Node header), undefined
   * without the header, false when the header does not verify (logged: a forgery or a
   * misconfigured peer). Without a verifier (tests of the local call core) the header is ignored.
   * Over TLS, a connection whose certificate names a node must name the signer (docs/sip-tls.md).
   */
  private peerOf(req: SipRequest, source: Endpoint): { node: string; link: string } | undefined | false {
    const verdict = this.deps.assertion?.verify(req);
    if (!verdict || verdict.kind === 'none') return undefined;
    if (verdict.kind === 'verified') {
      // Over TLS with a certificate of the fleet's CA (docs/sip-tls.md): it must name the signer too.
      if (source.certifiedNode === undefined || source.certifiedNode === verdict.node) {
        if (source.certifiedNode !== undefined) this.deps.logger.info({ node: verdict.node, callId: req.headers.get('call-id') }, 'inter-box request over mutual tls');
        return { node: verdict.node, link: verdict.link };
      }
      this.deps.logger.warn({ node: verdict.node, reason: 'certificate-mismatch', certified: source.certifiedNode, ip: source.address, port: source.port, callId: req.headers.get('call-id') }, 'inter-box request refused');
      return false;
    }
    this.deps.logger.warn({ node: verdict.node, reason: verdict.reason, ip: source.address, port: source.port, callId: req.headers.get('call-id') }, 'inter-box request refused');
    return false;
  }

  /** Check 7: a callee already in as many calls as a user may be in is busy. */
  calleeBusy(user: string): boolean {
    return this.deps.callsOf(user) >= this.deps.config.maxPerUser;
  }

  /** Checks 9-11: the session timer (RFC 4028 §9, the caller refreshes) and the SDP offer. */
  admitSession(req: SipRequest): SessionVerdict {
    const refuse = (status: number, reason: string, headers: Array<[string, string]> = []): SessionVerdict => ({ ok: false, response: refusal(req, status, reason, headers) });
    let answer: SessionTimerAnswer;
    try {
      // RFC 4028 towards the caller: the caller refreshes (refresher=uac); the box never does.
      answer = answerSessionTimer(req, { minSe: this.deps.config.minSE, interval: this.deps.config.sessionExpires, refresher: 'uac', insert: true });
    } catch {
      return refuse(400, 'Bad Session-Expires or Min-SE');
    }
    if (answer.action === 'reject') return refuse(422, 'Session Interval Too Small', answer.headers);
    if (req.body.length === 0) return refuse(488, 'An SDP offer is required');
    const offer = parseSdp(req.body);
    if (offer instanceof Error) return refuse(offer.status, offer.reason);
    const sessionTimer = answer.timer?.refresher === 'uac' ? { interval: answer.timer.interval, headers: answer.headers } : undefined;
    return { ok: true, offer, sessionTimer };
  }
}

/** A response refusing `req`, with extra headers. */
export function refusal(req: SipRequest, status: number, reason: string, headers: Array<[string, string]> = []): SipResponse {
  const res = createResponse(req, status, reason);
  for (const [n, v] of headers) res.headers.append(n, v);
  return res;
}
