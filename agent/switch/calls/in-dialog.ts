/**
 * Requests inside an established call, from either party: BYE ends the call; re-INVITE and
 * UPDATE carry a new offer (hold/resume, codec change) that is applied to the relay, rewritten
 * and sent on the other leg, with the answer coming back the same way; INFO and MESSAGE are
 * passed through; a re-INVITE or UPDATE without SDP (a session refresh) is answered here.
 */
import type { LegName } from '../../media/relay-types.ts';
import { SipHeaders, type SipResponse } from '../../sip/message/sip-message.ts';
import type { IncomingRequest } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { Call } from './call.ts';
import type { BodyOptions } from './inbound-leg.ts';

const PASS_THROUGH = new Set(['INFO', 'MESSAGE', 'NOTIFY', 'OPTIONS']);

export function handleInDialog(call: Call, leg: LegName, incoming: IncomingRequest): void {
  const { request } = incoming;
  const dialog = leg === 'a' ? call.a.dialog : call.b?.dialog;
  const refresh = leg === 'a' && (request.method === 'INVITE' || request.method === 'UPDATE');
  const reply = (status: number, reason: string, body?: string) => {
    // The request already carries this leg's tag in To; only the Contact differs per leg.
    const headers = refresh && status >= 200 && status < 300 ? call.sessionTimerHeaders : [];
    const res = call.a.build(request, status, reason, { headers, ...(body === undefined ? {} : { body }) });
    if (refresh && status >= 200 && status < 300) call.sessionRefreshed();
    const contact = call.b?.invite.headers.get('contact');
    if (leg === 'b' && contact && res.headers.has('contact')) res.headers.set('Contact', contact);
    incoming.respond(res);
    return res;
  };
  if (!dialog) return void reply(481, 'Call/Transaction Does Not Exist');
  const verdict = dialog.receiveRequest(request);
  if (!verdict.accepted) return void reply(verdict.status, verdict.reason);
  const other = call.other(leg);

  switch (request.method) {
    case 'BYE':
      reply(200, 'OK');
      void call.hangUp(leg, leg === 'a' ? 'caller hung up' : 'callee hung up');
      return;
    case 'PRACK': {
      // Reliable provisionals go only to the caller (the box never asks the callee for 100rel).
      const answer = leg === 'a' ? call.a.prack(request) : { status: 481, reason: 'No reliable provisional pending' };
      reply(answer.status, answer.reason);
      return;
    }
    case 'INVITE':
    case 'UPDATE': {
      if (call.state !== 'answered') {
        // Before the answer only a bodiless UPDATE (a refresh) is taken; offers wait (RFC 3311 §5.2).
        if (request.method === 'UPDATE' && request.body.length === 0) return void reply(200, 'OK');
        return void reply(491, 'Request Pending');
      }
      if (request.body.length === 0) {
        // A session refresh: answer with the SDP this party already has (RFC 4028 §7.4).
        reply(200, 'OK', request.method === 'INVITE' ? call.lastSdpFor(leg) : undefined);
        return;
      }
      if (call.offerPending) return void reply(491, 'Request Pending'); // RFC 3261 §14.2 glare
      const before = call.sdp[leg];
      const forward = call.offerFromParty(leg, request.body);
      if ('status' in forward) return void reply(forward.status, forward.reason);
      call.offerPending = true;
      sendTo(call, other, request.method, { body: forward.sdp }, (res) => {
        if (res.status < 200) return;
        call.offerPending = false;
        if (res.status >= 300) {
          // The offer was refused: media stays as negotiated before (RFC 3261 §14.1).
          if (before) call.restoreMedia(leg, before);
          return void reply(res.status, res.reason);
        }
        if (request.method === 'INVITE') ackOn(call, other, res);
        const back = res.body.length > 0 ? call.answerFromParty(other, res.body) : undefined;
        if (back && 'status' in back) return void reply(488, back.reason);
        reply(200, 'OK', back?.sdp);
      });
      return;
    }
    default:
      if (!PASS_THROUGH.has(request.method)) return void reply(501, 'Not Implemented');
      sendTo(call, other, request.method, passThroughOptions(incoming), (res) => {
        if (res.status >= 200) reply(res.status, res.reason);
      });
  }
}

function passThroughOptions(incoming: IncomingRequest): BodyOptions {
  const r = incoming.request;
  const headers: Array<[string, string]> = [];
  for (const name of ['Info-Package', 'Event', 'Subscription-State']) {
    const v = r.headers.get(name);
    if (v !== undefined) headers.push([name, v]);
  }
  if (r.body.length === 0) return { headers };
  return { body: r.body, contentType: r.headers.get('content-type') ?? 'application/octet-stream', headers };
}

/** Sends an in-dialog request to `leg`'s party; `onFinal` sees every response. */
function sendTo(call: Call, leg: LegName, method: string, options: BodyOptions, onResponse: (res: SipResponse) => void): void {
  const fail = (status: number, reason: string) => () => {
    call.offerPending = false;
    onResponse({ type: 'response', status, reason, version: 'SIP/2.0', headers: new SipHeaders(), body: Buffer.alloc(0) });
  };
  const user: ClientTransactionUser = { onResponse, onTimeout: fail(408, 'Request Timeout'), onTransportError: fail(503, 'Service Unavailable') };
  const sent = leg === 'a' ? call.a.send(method, user, options) : call.b?.send(method, user, options);
  if (!sent) fail(481, 'Call/Transaction Does Not Exist')();
}

function ackOn(call: Call, leg: LegName, res: SipResponse): void {
  if (leg === 'b') call.b?.ack(res);
  else call.a.sendAck(Number.parseInt(res.headers.get('cseq') ?? '0', 10));
}

