/**
 * The enrolment exchange, `POST /v1/enrol` on the hub (docs/enrolment.md): its JSON messages and
 * the two MACs that let the claim code authenticate both directions without being sent. Both
 * MACs are HMAC-SHA256 keyed with claimKey(code) over a domain tag and the fields, one per line
 * (no field holds a newline but the PEM texts, which are framed by their length).
 */
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { z } from 'zod';
import { TrustError } from './errors.ts';
import { x509 } from './x509.ts';

export const ENROL_PATH = '/v1/enrol';

const b64 = z.string().max(4096).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const EnrolRequestSchema = z.strictObject({
  v: z.literal(1),
  claimId: z.string().regex(/^[0-9A-Z]{4}$/),
  /** 16 random bytes from the box: binds the response to this request. */
  nonce: b64.min(16),
  /** The site the box is configured for: checked against the claim before the claim is spent. */
  site: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  /** PKCS#10 request, PEM, signed with the box's new P-256 key; its CN is the node id asked for. */
  csr: z.string().min(1).max(8192),
  /** The box's ed25519 replication key (SPKI DER, base64), to be bound into the certificate. */
  nodeKey: b64.min(1),
  /** ed25519 signature by that key over the CSR's DER: the box holds it. */
  nodeKeyProof: b64.min(1),
  mac: b64.min(1),
});
export type EnrolRequest = z.output<typeof EnrolRequestSchema>;

export const EnrolResponseSchema = z.strictObject({
  certificate: z.string().min(1).max(16_384),
  ca: z.string().min(1).max(16_384),
  mac: b64.min(1),
});
export type EnrolResponse = z.output<typeof EnrolResponseSchema>;

/** What the hub answers when it refuses: the TrustError's code and its one-line message. */
export const EnrolRefusalSchema = z.object({ error: z.string(), message: z.string() });

/** HMAC-SHA256 of length-prefixed parts, base64 (the claim code's MAC over an enrolment message). */
export function mac(key: Uint8Array, parts: string[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(`${p.length}:${p}\n`);
  return h.digest('base64');
}

/** Constant-time equality of two base64 MACs (an empty one never matches). */
export function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64');
  const y = Buffer.from(b, 'base64');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export function requestMac(key: Uint8Array, r: Omit<EnrolRequest, 'mac'>): string {
  return mac(key, ['outpost-enrol-request-v1', String(r.v), r.claimId, r.site, r.nonce, r.csr, r.nodeKey, r.nodeKeyProof]);
}

export function verifyRequestMac(key: Uint8Array, r: EnrolRequest): boolean {
  return same(requestMac(key, r), r.mac);
}

/** Chained to the request's MAC (and so to its nonce): an old answer cannot be replayed. */
export function responseMac(key: Uint8Array, requestMacValue: string, certificate: string, ca: string): string {
  return mac(key, ['outpost-enrol-response-v1', requestMacValue, certificate, ca]);
}

export function verifyResponseMac(key: Uint8Array, requestMacValue: string, r: EnrolResponse): boolean {
  return same(responseMac(key, requestMacValue, r.certificate, r.ca), r.mac);
}

export interface CheckedCsr {
  /** The CN of its subject, if any. */
  commonName: string | undefined;
  /** Its public key, SPKI DER. */
  publicKey: Buffer;
}

/**
 * Parses a PKCS#10 request and checks it: its self-signature, an ECDSA P-256 key, and the
 * ed25519 proof that the sender holds `nodeKey`. Throws TrustError('trust.csr').
 */
export async function checkCsr(pem: string, nodeKey: string, nodeKeyProof: string): Promise<CheckedCsr> {
  const csr = await selfSignedP256Csr(pem);
  let proved = false;
  try {
    const key = createPublicKey({ key: Buffer.from(nodeKey, 'base64'), format: 'der', type: 'spki' });
    proved = key.asymmetricKeyType === 'ed25519' && verify(null, Buffer.from(csr.rawData), key, Buffer.from(nodeKeyProof, 'base64'));
  } catch {
    proved = false;
  }
  if (!proved) throw new TrustError('trust.csr', 'the node key proof does not verify: the request must be signed by the box\'s ed25519 node key');
  const cn = csr.subjectName.getField('CN')[0];
  return { commonName: cn, publicKey: Buffer.from(csr.publicKey.rawData) };
}

/** Parses a PKCS#10 request (PEM) carrying an ECDSA P-256 key and signed by it; throws TrustError('trust.csr'). */
export async function selfSignedP256Csr(pem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new TrustError('trust.csr', `the certificate request is not a PKCS#10 request: ${(err as Error).message}`, { cause: err });
  }
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new TrustError('trust.csr', 'the certificate request must carry an ECDSA P-256 key');
  if (!(await csr.verify().catch(() => false))) throw new TrustError('trust.csr', 'the certificate request is not signed by its own key');
  return csr;
}

/** Renewal (docs/enrolment.md "Renewal"): over mutual TLS with the box's current certificate. */
export const RENEW_PATH = '/v1/renew';

export const RenewRequestSchema = z.strictObject({
  /** PKCS#10, PEM, for the box's current TLS key, CN = its node id. */
  csr: z.string().min(1).max(16_384),
  /** ed25519 signature of the CSR's DER by the node key the certificate binds, base64. */
  nodeKeyProof: z.string().min(1).max(200),
});

export const RenewResponseSchema = z.strictObject({ certificate: z.string(), ca: z.string() });
