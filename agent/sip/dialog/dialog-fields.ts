/**
 * Reads the fields a dialog is built from out of the dialog-creating request and response
 * (RFC 3261 §12.1.1, §12.1.2): the parties of From/To, the Contact URI, the CSeq number, the
 * Call-ID. Every failure is a DialogError('dialog.invalid-message') naming the header, so a
 * UAS can answer the request with 400.
 */
import { parseCSeq, type CSeq } from '../message/cseq.ts';
import { formatNameAddr, parseNameAddr, type NameAddr } from '../message/name-addr.ts';
import type { SipHeaders } from '../message/sip-message.ts';
import { parseUri } from '../message/sip-uri.ts';
import { parseVia } from '../message/via.ts';
import { DialogError } from './errors.ts';
import type { DialogTransport } from './in-dialog-request.ts';

/** One end of the dialog as its From/To shows it: URI and display name, without the tag. */
export interface DialogParty {
  uri: string;
  displayName?: string;
}

/** How the dialog writes the top Via of the requests it sends. */
export interface DialogTransportOptions {
  /** sent-by of our Via: `host` or `host:port` of the socket the requests leave from. */
  viaSentBy: string;
  transport: DialogTransport;
  /** Add `;rport` to the Via (RFC 3581 §3). Default false. */
  rport?: boolean;
}

/** The From or To header as a name-addr; throws when absent or unreadable. */
export function readAddress(headers: SipHeaders, name: 'From' | 'To'): NameAddr {
  const value = headers.get(name);
  if (value === undefined) throw invalid(`missing ${name}`);
  try {
    return parseNameAddr(value);
  } catch (e) {
    throw invalid(`unreadable ${name}`, e);
  }
}

export function partyOf(na: NameAddr): DialogParty {
  return na.displayName === undefined ? { uri: na.uri } : { uri: na.uri, displayName: na.displayName };
}

/** The URI of the first Contact, or undefined when there is none (throws when unreadable or `*`). */
export function contactUri(headers: SipHeaders): string | undefined {
  const value = headers.get('contact');
  if (value === undefined) return undefined;
  try {
    return parseNameAddr(value).uri;
  } catch (e) {
    throw invalid('unreadable Contact', e);
  }
}

export function readCSeq(headers: SipHeaders): CSeq {
  const value = headers.get('cseq');
  if (value === undefined) throw invalid('missing CSeq');
  try {
    return parseCSeq(value);
  } catch (e) {
    throw invalid('unreadable CSeq', e);
  }
}

export function readCallId(headers: SipHeaders): string {
  const value = headers.get('call-id')?.trim();
  if (value === undefined || value === '') throw invalid('missing Call-ID');
  return value;
}

/**
 * A Contact header value for our side: a URI (`sip:pbx@10.0.0.1`) is bracketed, a name-addr
 * (`"Outpost" <sip:pbx@10.0.0.1>;expires=0`) is checked and kept. Throws 'dialog.invalid-argument'.
 */
export function contactValue(contact: string): string {
  try {
    if (contact.indexOf('<') >= 0) return formatNameAddr(parseNameAddr(contact));
    parseUri(contact);
    return '<' + contact + '>';
  } catch (e) {
    throw new DialogError('dialog.invalid-argument', 'local Contact is not a URI or name-addr', { cause: e });
  }
}

/** The transport and sent-by of a request's top Via, as written (used by the UAC). */
export function transportOfRequest(headers: SipHeaders): DialogTransportOptions | undefined {
  const value = headers.get('via');
  if (value === undefined) return undefined;
  try {
    const via = parseVia(value);
    if (via.transport !== 'UDP' && via.transport !== 'TCP' && via.transport !== 'TLS') return undefined;
    const host = via.host.indexOf(':') >= 0 && !via.host.startsWith('[') ? '[' + via.host + ']' : via.host;
    return { viaSentBy: via.port === undefined ? host : host + ':' + via.port, transport: via.transport, rport: via.rport !== undefined };
  } catch {
    return undefined;
  }
}

/** True when the URI's scheme is sips (RFC 3261 §12.1.1: one half of the secure flag). */
export function isSipsUri(uri: string): boolean {
  return /^sips:/i.test(uri.trim());
}

function invalid(message: string, cause?: unknown): DialogError {
  return new DialogError('dialog.invalid-message', message, cause === undefined ? undefined : { cause });
}
