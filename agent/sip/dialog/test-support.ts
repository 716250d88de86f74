/**
 * Test helpers for the dialog-layer unit tests: real messages parsed from text with the
 * message layer's parser, in the style of the RFC 3665 §3.2 call flow (Alice calls Bob through
 * two record-routing proxies, ss1.atlanta.example.com and ss2.biloxi.example.com). Not used by
 * production code.
 */
import { parseMessage } from '../message/parse-message.ts';
import type { SipRequest, SipResponse } from '../message/sip-message.ts';

/**
 * Parses a body-less message written with "\n" line ends; leading whitespace of each line and
 * blank lines are dropped, so optional header lines can be left empty.
 */
export function parse(text: string): SipRequest | SipResponse {
  const head = text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\r\n');
  const result = parseMessage(Buffer.from(head + '\r\n\r\n', 'utf8'));
  if (!result.ok) throw result.error;
  return result.message;
}

export function request(text: string): SipRequest {
  const m = parse(text);
  if (m.type !== 'request') throw new TypeError('not a request');
  return m;
}

export function response(text: string): SipResponse {
  const m = parse(text);
  if (m.type !== 'response') throw new TypeError('not a response');
  return m;
}

/** Alice's INVITE as Bob receives it, after both proxies (RFC 3665 §3.2, F6 style). */
export function inviteAtBob(...extra: string[]): SipRequest {
  return request(`
    INVITE sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e4.1
    Via: SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.111
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
    Max-Forwards: 68
    Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 2 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
    ${extra.join('\n')}
  `);
}

/** Alice's INVITE as she sent it to her outbound proxy. */
export function inviteFromAlice(): SipRequest {
  return request(`
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    Route: <sip:ss1.atlanta.example.com;lr>
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 2 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
  `);
}

/** Bob's answer to the INVITE as Alice receives it: 180 or 200, Record-Route as sent back. */
export function answerAtAlice(status: 180 | 183 | 200 | 486, toTag = '314159', contact = '<sip:bob@client.biloxi.example.com;transport=udp>'): SipResponse {
  const reason = { 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 486: 'Busy Here' }[status];
  return response(`
    SIP/2.0 ${status} ${reason}
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
    Record-Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>${toTag === '' ? '' : ';tag=' + toTag}
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 2 INVITE
    ${status < 300 ? 'Contact: ' + contact : ''}
  `);
}
