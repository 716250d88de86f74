/**
 * Digest authentication of a request from a local user (RFC 3261 §22, RFC 8760), shared by
 * the registrar (401 / WWW-Authenticate / Authorization) and calls (407 / Proxy-Authenticate /
 * Proxy-Authorization). A wrong password or an unknown user (also: a user of another site) is a
 * 403 and counts towards the flood guard's ban; a stale or unknown nonce is challenged again.
 */
import type { Logger } from '../lib/logger.ts';
import type { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import { createResponse } from '../sip/message/create-response.ts';
import type { SipRequest, SipResponse } from '../sip/message/sip-message.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import type { Store } from '../store/store.ts';
import type { FloodGuard } from './flood-guard.ts';

export type AuthKind = 'www' | 'proxy';

export interface AuthDeps {
  authenticator: DigestAuthenticator;
  store: Store;
  flood: FloodGuard;
  logger: Logger;
  /** This box's site: users of another site (replicated here while moving) are unknown here. */
  site?: string;
}

export type AuthOutcome = { ok: true; username: string } | { ok: false; response: SipResponse };

const HEADERS = {
  www: { status: 401, reason: 'Unauthorized', challenge: 'WWW-Authenticate', credentials: 'authorization' },
  proxy: { status: 407, reason: 'Proxy Authentication Required', challenge: 'Proxy-Authenticate', credentials: 'proxy-authorization' },
} as const;

export function authenticateRequest(req: SipRequest, source: Endpoint, kind: AuthKind, deps: AuthDeps): AuthOutcome {
  const h = HEADERS[kind];
  const challenge = (stale: boolean): AuthOutcome => {
    const res = createResponse(req, h.status, h.reason);
    for (const c of deps.authenticator.challenge(stale)) res.headers.append(h.challenge, c);
    return { ok: false, response: res };
  };
  const refuse = (status: number, reason: string): AuthOutcome => ({ ok: false, response: createResponse(req, status, reason) });
  const credentials = req.headers.getAll(h.credentials);
  if (credentials.length === 0) return challenge(false);
  const result = deps.authenticator.verify({
    method: req.method,
    credentials,
    lookupHa1: (username, _realm, algorithm) => {
      const user = deps.store.users.get(username);
      if (!user) return undefined;
      if (deps.site !== undefined && user.site !== '' && user.site !== deps.site) return undefined;
      if (algorithm === 'SHA-256') return user.ha1Sha256 || undefined;
      if (algorithm === 'MD5') return user.ha1Md5 || undefined;
      return undefined;
    },
  });
  switch (result.result) {
    case 'ok':
      return { ok: true, username: result.username };
    case 'missing':
      return challenge(false);
    case 'stale':
      return challenge(true);
    case 'failed':
      if (result.reason === 'replay' || result.reason === 'bad-nonce' || result.reason === 'realm-mismatch') return challenge(false);
      if (result.reason === 'malformed' || result.reason === 'unsupported-algorithm') {
        return refuse(400, `Bad ${kind === 'www' ? 'Authorization' : 'Proxy-Authorization'} header (${result.reason})`);
      }
      deps.flood.recordAuthFailure(source.address);
      deps.logger.info({ user: result.username, ip: source.address, method: req.method, reason: result.reason }, 'authentication failed');
      return refuse(403, 'Forbidden');
  }
}
