/**
 * The digest computations of RFC 3261 §22.4 / RFC 2617 §3.2.2, with the hash algorithms of
 * RFC 7616 §3.4.2 as adopted for SIP by RFC 8760 §2 (MD5, SHA-256, SHA-512-256 and their
 * `-sess` variants). Pure functions over node:crypto; no state, no I/O.
 *
 *   HA1      = H(username ":" realm ":" password)                      what the store keeps
 *   HA1-sess = H(HA1 ":" nonce ":" cnonce)                             for the -sess algorithms
 *   HA2      = H(method ":" digest-uri)                                qop=auth or no qop
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)      qop=auth
 *   response = H(HA1 ":" nonce ":" HA2)                                no qop (RFC 2069 form)
 *
 * H() is lower-case hex. qop=auth-int (hash of the body) is not implemented.
 */
import * as nodeCrypto from 'node:crypto';
import { AuthError } from './errors.ts';

/** The hash family; one stored HA1 per family (a `-sess` variant reuses its family's HA1). */
export type HashAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** Algorithm tokens as they appear in the `algorithm` parameter. */
export type DigestAlgorithm =
  | HashAlgorithm
  | 'MD5-sess'
  | 'SHA-256-sess'
  | 'SHA-512-256-sess';

interface AlgorithmInfo {
  name: DigestAlgorithm;
  hash: HashAlgorithm;
  session: boolean;
  /** node:crypto hash name. */
  nodeHash: string;
  /** Length of H() in hex characters. */
  hexLength: number;
}

const INFO: ReadonlyMap<string, AlgorithmInfo> = new Map(
  (
    [
      ['MD5', 'MD5', false, 'md5', 32],
      ['MD5-sess', 'MD5', true, 'md5', 32],
      ['SHA-256', 'SHA-256', false, 'sha256', 64],
      ['SHA-256-sess', 'SHA-256', true, 'sha256', 64],
      ['SHA-512-256', 'SHA-512-256', false, 'sha512-256', 64],
      ['SHA-512-256-sess', 'SHA-512-256', true, 'sha512-256', 64],
    ] as const
  ).map(([name, hash, session, nodeHash, hexLength]) => [
    name.toLowerCase(),
    { name, hash, session, nodeHash, hexLength },
  ]),
);

/** Every algorithm this module implements, strongest family first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  'SHA-512-256',
  'SHA-512-256-sess',
  'SHA-256',
  'SHA-256-sess',
  'MD5',
  'MD5-sess',
];

/**
 * Canonical spelling of an `algorithm` token (tokens compare case-insensitively), or undefined
 * when it is not one we implement. An absent parameter means MD5 (RFC 3261 §25.1); that default
 * is the caller's choice to apply.
 */
export function parseAlgorithm(token: string): DigestAlgorithm | undefined {
  return INFO.get(token.toLowerCase())?.name;
}

function info(algorithm: string): AlgorithmInfo {
  const found = INFO.get(algorithm.toLowerCase());
  if (!found) throw new AuthError('sip.auth.unsupported-algorithm', `unsupported digest algorithm ${algorithm}`);
  return found;
}

/** The hash family of an algorithm: which stored HA1 it needs. */
export function hashOf(algorithm: DigestAlgorithm): HashAlgorithm {
  return info(algorithm).hash;
}

/** Length in hex characters of a response (and of an HA1) under `algorithm`. */
export function digestHexLength(algorithm: DigestAlgorithm): number {
  return info(algorithm).hexLength;
}

/** One-shot crypto.hash() (Node >= 20.12) is about twice as fast as createHash() for short inputs. */
const oneShot: ((algorithm: string, data: string, encoding: 'hex') => string) | undefined =
  typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

function h(nodeHash: string, data: string): string {
  return oneShot ? oneShot(nodeHash, data, 'hex') : nodeCrypto.createHash(nodeHash).update(data, 'utf8').digest('hex');
}

/**
 * HA1 = H(username:realm:password): the only form in which a password is ever stored
 * (DESIGN.md §9). For a `-sess` algorithm this is its family's HA1; the session key is derived
 * per request in computeResponse().
 */
export function computeHa1(username: string, realm: string, password: string, algorithm: DigestAlgorithm): string {
  return h(info(algorithm).nodeHash, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  /** Stored HA1 of the algorithm's family, lower-case hex. */
  ha1: string;
  method: string;
  /** The digest-uri exactly as the client wrote it in the `uri` parameter. */
  uri: string;
  nonce: string;
  /** nonce-count exactly as sent (8 hex digits); required with qop. */
  nc?: string;
  /** Required with qop and with every `-sess` algorithm. */
  cnonce?: string;
  /** `auth`, or undefined for the RFC 2069 form that RFC 3261 §22.4 still allows. */
  qop?: string;
  algorithm: DigestAlgorithm;
}

/** The request-digest (the `response` parameter) a client holding HA1 must send. */
export function computeResponse(input: ResponseInput): string {
  const alg = info(input.algorithm);
  const { nonce, cnonce, nc, qop } = input;
  if (qop !== undefined && qop !== 'auth') {
    throw new AuthError('sip.auth.unsupported-qop', `unsupported qop ${qop}`);
  }
  if ((qop !== undefined || alg.session) && cnonce === undefined) {
    throw new AuthError('sip.auth.invalid-argument', `cnonce is required with ${qop ? 'qop' : alg.name}`);
  }
  if (qop !== undefined && nc === undefined) {
    throw new AuthError('sip.auth.invalid-argument', 'nc is required with qop');
  }
  const ha1 = alg.session ? h(alg.nodeHash, `${input.ha1}:${nonce}:${cnonce}`) : input.ha1;
  const ha2 = h(alg.nodeHash, `${input.method}:${input.uri}`);
  return qop === undefined
    ? h(alg.nodeHash, `${ha1}:${nonce}:${ha2}`)
    : h(alg.nodeHash, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}
