/**
 * The two header fields of the SIP session timer (RFC 4028): Session-Expires (§4, compact
 * form `x`: `delta-seconds *(SEMI se-params)`, se-params = `refresher=uac|uas` or a generic
 * parameter) and Min-SE (§5: `delta-seconds *(SEMI generic-param)`). Parsing throws the message
 * layer's SipParseError with the header name, like every header codec.
 */
import { SipParseError } from '../message/errors.ts';
import { type HeaderParams, formatHeaderParams, mergeParams, parseHeaderParams, readDeltaSeconds } from '../message/header-params.ts';

/** The UA that sends the refreshes: the UAC or the UAS of the refreshing transaction. */
export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  /** The session interval, seconds. */
  interval: number;
  refresher?: Refresher;
  /** Every parameter in order (names lower-cased); `refresher` overrides its entry on format. */
  params: HeaderParams;
}

/** Parses a Session-Expires value, e.g. `1800;refresher=uac`. */
export function parseSessionExpires(value: string): SessionExpires {
  const { seconds, params, at } = readValue(value, 'Session-Expires');
  const out: SessionExpires = { interval: seconds, params };
  const refresher = params.get('refresher');
  if (refresher !== undefined) {
    const r = refresher?.toLowerCase();
    if (r !== 'uac' && r !== 'uas') throw new SipParseError('bad refresher', at, 'Session-Expires');
    out.refresher = r;
  }
  return out;
}

/** Writes `interval[;refresher=x][;other params]`. */
export function formatSessionExpires(se: SessionExpires): string {
  return String(se.interval) + formatHeaderParams(mergeParams(se.params, { refresher: se.refresher }));
}

/** Parses a Min-SE value (its parameters, if any, are ignored). */
export function parseMinSe(value: string): number {
  return readValue(value, 'Min-SE').seconds;
}

export function formatMinSe(seconds: number): string {
  return String(seconds);
}

function readValue(value: string, header: string): { seconds: number; params: HeaderParams; at: number } {
  const start = value.length - value.trimStart().length;
  let end = start;
  while (end < value.length && value.charCodeAt(end) >= 48 && value.charCodeAt(end) <= 57) end++;
  try {
    const seconds = readDeltaSeconds(value.slice(start, end), start);
    return { seconds, params: parseHeaderParams(value, end).params, at: end };
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(e.reason, e.offset, header);
    throw e;
  }
}
