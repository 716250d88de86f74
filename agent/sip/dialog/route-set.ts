/**
 * The route set of a dialog and where an in-dialog request goes (RFC 3261 §12.1.1, §12.1.2,
 * §12.2.1.1). The route set holds URIs as written (all URI parameters kept, §12.1.1); the
 * Request-URI and Route headers of each request are computed from it and the remote target,
 * for a loose-routing (`;lr`, RFC 3261) or a strict-routing (RFC 2543) first hop.
 */
import { SipParseError } from '../message/errors.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import type { SipMessage } from '../message/sip-message.ts';
import { formatUri, parseUri } from '../message/sip-uri.ts';
import type { TransactionRole } from './dialog-key.ts';
import { DialogError } from './errors.ts';

/**
 * The route set a dialog is created with: the Record-Route URIs of the request in order for
 * the UAS (§12.1.1), of the response in reverse order for the UAC (§12.1.2). Empty when there
 * is no Record-Route. Throws DialogError('dialog.invalid-message') on an unreadable entry.
 */
export function routeSetFrom(message: SipMessage, side: TransactionRole): string[] {
  const uris = message.headers.getAll('record-route').map((value) => {
    try {
      return parseNameAddr(value).uri;
    } catch (e) {
      throw new DialogError('dialog.invalid-message', 'unreadable Record-Route', { cause: e });
    }
  });
  return side === 'uas' ? uris : uris.reverse();
}

export interface RequestTarget {
  /** The Request-URI of the request. */
  requestUri: string;
  /** Route header values, in order (each a bracketed URI). */
  routes: string[];
}

/**
 * Request-URI and Route headers of a request inside a dialog (RFC 3261 §12.2.1.1):
 * - empty route set: the remote target, no Route;
 * - first route has `lr`: the remote target, and a Route for every entry of the route set;
 * - first route lacks `lr` (strict router): the first route with the parameters a Request-URI
 *   may not hold removed (§19.1.1: `method`, and URI headers), then a Route for each remaining
 *   entry and the remote target as the last Route.
 */
export function requestTarget(remoteTarget: string, routeSet: readonly string[]): RequestTarget {
  const first = routeSet[0];
  if (first === undefined) return { requestUri: remoteTarget, routes: [] };
  if (isLooseRouter(first)) return { requestUri: remoteTarget, routes: routeSet.map(bracket) };
  return {
    requestUri: asRequestUri(first),
    routes: [...routeSet.slice(1), remoteTarget].map(bracket),
  };
}

/** True when the URI carries the `lr` parameter (RFC 3261 §19.1.1, §16.12.1.1). */
export function isLooseRouter(uri: string): boolean {
  try {
    return parseUri(uri).params.has('lr');
  } catch {
    return false;
  }
}

/** A URI without what Table 1 of §19.1.1 forbids in a Request-URI; unchanged text otherwise. */
function asRequestUri(uri: string): string {
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch (e) {
    if (e instanceof SipParseError) throw new DialogError('dialog.invalid-message', 'unreadable route URI', { cause: e });
    throw e;
  }
  if (!parsed.params.has('method') && parsed.headers.length === 0) return uri;
  const params = new Map(parsed.params);
  params.delete('method');
  return formatUri({ ...parsed, params, headers: [] });
}

function bracket(uri: string): string {
  return '<' + uri + '>';
}
