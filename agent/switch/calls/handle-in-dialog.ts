/**
 * Requests inside an established call, from either party (RFC 3261 §12.2.2): BYE ends the
 * call; re-INVITE and UPDATE carry a new offer (hold/resume, codec change) that the call
 * applies to the relay and sends on the other leg, with the answer coming back the same way;
 * INFO, MESSAGE, NOTIFY and OPTIONS are passed through; a re-INVITE or UPDATE without SDP (a
 * session refresh, RFC 4028 §7.4) is answered here. It decides which response and which
 * request; the call holds the state and does the sending.
 */
import type { LegName } from '../../media/relay-types.ts';
import type { IncomingRequest } from '../../sip/sip-endpoint.ts';
import { other } from './call-media.ts';
import type { Call } from './call.ts';
import type { BodyOptions } from './inbound-leg.ts';

const PASS_THROUGH = new Set(['INFO', 'MESSAGE', 'NOTIFY', 'OPTIONS']);
/** Headers of a passed-through request that the other party needs to read its body. */
const PASS_THROUGH_HEADERS = ['Info-Package', 'Event', 'Subscription-State'];

export function handleInDialog(call: Call, leg: LegName, incoming: IncomingRequest): void {
  const { request } = incoming;
  const reply = (status: number, reason: string, body?: string) => call.answerInDialog(leg, incoming, status, reason, body);
  const verdict = call.receiveInDialog(leg, request);
  if (!verdict.accepted) return reply(verdict.status, verdict.reason);

  switch (request.method) {
    case 'BYE':
      reply(200, 'OK');
      void call.hangUp(leg, leg === 'a' ? 'caller hung up' : 'callee hung up');
      return;
    case 'PRACK': {
      const answer = call.prack(leg, request);
      return reply(answer.status, answer.reason);
    }
    case 'INVITE':
    case 'UPDATE':
      return offer(call, leg, incoming, reply);
    default:
      if (!PASS_THROUGH.has(request.method)) return reply(501, 'Not Implemented');
      call.sendTo(other(leg), request.method, passThroughOptions(incoming), (res) => {
        if (res.status >= 200) reply(res.status, res.reason);
      });
  }
}

/** A re-INVITE or UPDATE: a refresh without SDP, or a new offer for the other party. */
function offer(call: Call, leg: LegName, incoming: IncomingRequest, reply: (status: number, reason: string, body?: string) => void): void {
  const { request } = incoming;
  if (call.state !== 'answered') {
    // Before the answer only a bodiless UPDATE (a refresh) is taken; offers wait (RFC 3311 §5.2).
    if (request.method === 'UPDATE' && request.body.length === 0) return reply(200, 'OK');
    return reply(491, 'Request Pending');
  }
  if (request.body.length === 0) {
    // A session refresh: answer with the SDP this party already has (RFC 4028 §7.4).
    return reply(200, 'OK', request.method === 'INVITE' ? call.lastSdpFor(leg) : undefined);
  }
  const forward = call.reofferFrom(leg, request.body);
  if ('status' in forward) return reply(forward.status, forward.reason); // 491 on glare, RFC 3261 §14.2
  const to = other(leg);
  call.sendTo(to, request.method, { body: forward.sdp }, (res) => {
    if (res.status < 200) return;
    if (res.status < 300 && request.method === 'INVITE') call.ackOn(to, res);
    const back = call.reofferSettled(leg, res);
    // A refused offer leaves the media as negotiated before (RFC 3261 §14.1).
    if (res.status >= 300) return reply(res.status, res.reason);
    if ('status' in back) return reply(back.status, back.reason);
    reply(200, 'OK', back.sdp);
  });
}

function passThroughOptions(incoming: IncomingRequest): BodyOptions {
  const r = incoming.request;
  const headers: Array<[string, string]> = [];
  for (const name of PASS_THROUGH_HEADERS) {
    const v = r.headers.get(name);
    if (v !== undefined) headers.push([name, v]);
  }
  if (r.body.length === 0) return { headers };
  return { body: r.body, contentType: r.headers.get('content-type') ?? 'application/octet-stream', headers };
}
