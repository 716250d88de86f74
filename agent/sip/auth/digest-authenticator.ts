/**
 * Server side of SIP digest authentication (RFC 3261 §22.4, RFC 8760) for the registrar and
 * any other UAS or proxy that challenges requests.
 *
 * challenge() gives the WWW-Authenticate / Proxy-Authenticate values of a 401/407: one per
 * configured algorithm, most preferred first, all sharing one fresh nonce (RFC 8760 §2, UAS
 * behaviour). verify() checks the Authorization / Proxy-Authorization value of the retried
 * request and returns a result union; it never throws for anything the peer sent. It does not
 * compare the `uri` parameter with the Request-URI (RFC 3261 §22.4 leaves that to the caller,
 * which may have rewritten the Request-URI): it returns the uri for the caller to check.
 *
 * Order of checks, cheapest first: parse, realm, algorithm, qop/nc/cnonce shape, nonce MAC,
 * HA1 lookup, digest, nonce-count. A stale nonce is only reported as 'stale' when the digest
 * is right (RFC 7616 §3.3 "stale"), so a wrong password never earns a silent retry.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';
import { formatChallenge, parseAuthParams } from './auth-params.ts';
import {
  computeResponse,
  digestHexLength,
  hashOf,
  parseAlgorithm,
  type DigestAlgorithm,
  type HashAlgorithm,
} from './digest.ts';
import { AuthError, isAuthError } from './errors.ts';
import { NonceManager } from './nonce-manager.ts';

export type VerifyFailureReason =
  | 'unknown-user'
  | 'bad-response'
  | 'replay'
  | 'realm-mismatch'
  | 'bad-nonce'
  | 'malformed'
  | 'unsupported-algorithm';

export type VerifyResult =
  /** Authenticated. `uri` is the digest-uri the client signed, for comparison with the Request-URI. */
  | { result: 'ok'; username: string; uri: string; algorithm: DigestAlgorithm }
  /** Right password, expired nonce: challenge again with stale=true. */
  | { result: 'stale' }
  /** No Digest credentials at all: challenge. */
  | { result: 'missing' }
  | { result: 'failed'; reason: VerifyFailureReason; username?: string };

/** Returns the stored HA1 (lower-case hex) of `username` for a hash family, or undefined. */
export type Ha1Lookup = (username: string, realm: string, algorithm: HashAlgorithm) => string | undefined;

export interface VerifyInput {
  /** The method of the request being authenticated (it enters A2 = method ":" digest-uri). */
  method: string;
  /** Authorization (or Proxy-Authorization) value(s); the one for our realm is used. */
  credentials: string | readonly string[] | undefined;
  lookupHa1: Ha1Lookup;
}

export interface DigestAuthenticatorOptions {
  realm: string;
  clock: Clock;
  /** Nonce lifetime (default 300 000 ms). */
  nonceLifetimeMs?: number;
  /** Offered algorithms, most preferred first (default ['MD5']: see docs/config/sip-auth.md). */
  algorithms?: readonly DigestAlgorithm[];
  /** Sent in every challenge and required back unchanged when set. */
  opaque?: string;
  /** Nonce HMAC key (default: random per instance). */
  nonceKey?: Uint8Array;
  /** Nonces remembered for replay protection (default 100 000). */
  replayWindow?: number;
  /** Accept the RFC 2069 form without qop/nc/cnonce (default true; no replay protection). */
  allowNoQop?: boolean;
}

/** `Digest` followed by LWS, as parseAuthParams accepts it (RFC 3261 §25.1 LWS may fold). */
const DIGEST_PREFIX = /^[ \t]*digest(?:[ \t]|\r\n[ \t])/i;
const NC_SHAPE = /^[0-9A-Fa-f]{8}$/;
const HEX_SHAPE = /^[0-9a-f]+$/;

export class DigestAuthenticator {
  /** The realm challenged with; setRealm() changes it live (a site's realm, agent/switch/site-sip.ts). */
  private currentRealm: string;
  algorithms: readonly DigestAlgorithm[];
  private readonly nonces: NonceManager;
  private readonly opaque: string | undefined;
  private readonly allowNoQop: boolean;

  constructor(options: DigestAuthenticatorOptions) {
    this.currentRealm = options.realm;
    this.opaque = options.opaque;
    this.allowNoQop = options.allowNoQop ?? true;
    const algorithms = options.algorithms ?? ['MD5'];
    if (algorithms.length === 0) throw new AuthError('sip.auth.invalid-argument', 'no digest algorithms configured');
    this.algorithms = algorithms.map((a) => {
      const canonical = parseAlgorithm(a);
      if (!canonical) throw new AuthError('sip.auth.unsupported-algorithm', `unsupported digest algorithm ${a}`);
      return canonical;
    });
    if (new Set(this.algorithms).size !== this.algorithms.length) {
      throw new AuthError('sip.auth.invalid-argument', `duplicate digest algorithm in ${this.algorithms.join(', ')}`);
    }
    this.nonces = new NonceManager({
      clock: options.clock,
      lifetimeMs: options.nonceLifetimeMs,
      key: options.nonceKey,
      replayWindow: options.replayWindow,
    });
    // Fail at construction, not on the first REGISTER, if realm or opaque cannot be quoted.
    formatChallenge({ realm: this.realm, nonce: 'x', algorithm: 'MD5', opaque: this.opaque });
  }

  /**
   * Live config (docs/config-push.md): the algorithms offered in the next challenge and the
   * lifetime of nonces (those already issued included). The section was validated by the schema.
   */
  reconfigure(section: { algorithms: readonly DigestAlgorithm[]; nonceLifetime: number }): void {
    this.algorithms = [...section.algorithms];
    this.nonces.lifetimeMs = section.nonceLifetime * 1000;
  }

  get realm(): string {
    return this.currentRealm;
  }

  /** Challenges with `realm` from now on; throws AuthError if it cannot be quoted. */
  setRealm(realm: string): void {
    formatChallenge({ realm, nonce: 'x', algorithm: 'MD5', opaque: this.opaque });
    this.currentRealm = realm;
  }

  /** One challenge value per algorithm, most preferred first, sharing one fresh nonce. */
  challenge(stale = false): string[] {
    const nonce = this.nonces.issue();
    return this.algorithms.map((algorithm) =>
      formatChallenge({ realm: this.realm, nonce, algorithm, opaque: this.opaque, stale }),
    );
  }

  /** Checks a retried request's credentials; see the module comment for the order of checks. */
  verify(input: VerifyInput): VerifyResult {
    const params = this.pickCredentials(input.credentials);
    if (!(params instanceof Map)) return params;

    const username = params.get('username');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const sent = params.get('response');
    if (username === undefined) return { result: 'failed', reason: 'malformed' };
    if (nonce === undefined || uri === undefined || sent === undefined) return fail('malformed', username);
    if (params.get('realm') !== this.realm) return fail('realm-mismatch', username);

    const algorithm = parseAlgorithm(params.get('algorithm') ?? 'MD5'); // RFC 3261 §25.1 default
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return fail('unsupported-algorithm', username);

    const qop = params.get('qop');
    const nc = params.get('nc');
    const cnonce = params.get('cnonce');
    let count = 0;
    if (qop !== undefined) {
      if (qop.toLowerCase() !== 'auth' || nc === undefined || cnonce === undefined) return fail('malformed', username);
      if (!NC_SHAPE.test(nc)) return fail('malformed', username);
      count = parseInt(nc, 16);
      if (count === 0) return fail('malformed', username);
    } else {
      // RFC 2069 form: no nc; a cnonce only where a -sess algorithm needs it for HA1.
      if (!this.allowNoQop || nc !== undefined) return fail('malformed', username);
      if (algorithm.endsWith('-sess') ? cnonce === undefined : cnonce !== undefined) return fail('malformed', username);
    }
    const response = sent.toLowerCase();
    if (response.length !== digestHexLength(algorithm) || !HEX_SHAPE.test(response)) return fail('malformed', username);
    if (this.opaque !== undefined && params.get('opaque') !== this.opaque) return fail('bad-nonce', username);

    const nonceStatus = this.nonces.check(nonce);
    if (nonceStatus === 'invalid') return fail('bad-nonce', username);

    const ha1 = input.lookupHa1(username, this.realm, hashOf(algorithm));
    if (ha1 === undefined) return fail('unknown-user', username);
    const expected = computeResponse({
      ha1: ha1.toLowerCase(),
      method: input.method,
      uri,
      nonce,
      nc,
      cnonce,
      qop: qop === undefined ? undefined : 'auth',
      algorithm,
    });
    if (!timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(response, 'latin1'))) {
      return fail('bad-response', username);
    }
    if (nonceStatus === 'stale') return { result: 'stale' };
    if (qop !== undefined) {
      const counted = this.nonces.acceptCount(nonce, count);
      if (counted === 'replay') return fail('replay', username);
      if (counted === 'stale') return { result: 'stale' };
    }
    return { result: 'ok', username, uri, algorithm };
  }

  /** The parsed Digest credentials for our realm, or the result to return when there are none. */
  private pickCredentials(credentials: VerifyInput['credentials']): Map<string, string> | VerifyResult {
    if (typeof credentials === 'string') return this.parseOne(credentials);
    let foreign: Map<string, string> | undefined;
    let malformed = false;
    for (const value of credentials ?? []) {
      if (!DIGEST_PREFIX.test(value)) continue; // another scheme: not ours to judge
      try {
        const { params } = parseAuthParams(value);
        if (params.get('realm') === this.realm) return params;
        foreign ??= params;
      } catch (err) {
        if (!isAuthError(err)) throw err;
        malformed = true;
      }
    }
    if (malformed) return { result: 'failed', reason: 'malformed' };
    if (foreign) return this.fromForeignRealm(foreign);
    return { result: 'missing' };
  }

  /** The common case, one header value: no list to walk. */
  private parseOne(value: string): Map<string, string> | VerifyResult {
    if (!DIGEST_PREFIX.test(value)) return { result: 'missing' };
    try {
      return parseAuthParams(value).params; // a foreign realm is caught by verify()'s realm check
    } catch (err) {
      if (!isAuthError(err)) throw err;
      return { result: 'failed', reason: 'malformed' };
    }
  }

  private fromForeignRealm(params: Map<string, string>): VerifyResult {
    const username = params.get('username');
    return username === undefined
      ? { result: 'failed', reason: 'realm-mismatch' }
      : { result: 'failed', reason: 'realm-mismatch', username };
  }
}

function fail(reason: VerifyFailureReason, username: string): VerifyResult {
  return { result: 'failed', reason, username };
}
