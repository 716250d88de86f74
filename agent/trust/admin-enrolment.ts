/**
 * How an admin gets its certificate (docs/cli/admin.md, docs/enrolment.md "Admins"): the same
 * exchange as a box's, `POST /v1/enrol` with a claim code made at the hub
 * (`outpost enrol create --admin NAME`), but the request says `role: "admin"`, carries no site
 * and no node key, and the certificate names role `admin` (identity.ts). The answer also
 * carries the hub's broker address, where the admin sends its signed requests (agent/admin/).
 * Both directions are MACed with the claim key under their own domain tags, so a box's request
 * can never be replayed as an admin's or the other way round.
 */
import { createPrivateKey, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { z } from 'zod';
import type { CertificateAuthority } from './ca.ts';
import type { ClaimBook } from './claim-book.ts';
import { claimKey, type ClaimCode } from './claim-code.ts';
import { claimState, type ClaimMarks, type ClaimRecord } from './claim-rules.ts';
import { newTlsKey } from './credentials.ts';
import { ENROL_PATH, mac, same, selfSignedP256Csr } from './enrol-protocol.ts';
import { TrustError } from './errors.ts';
import { postToHub, refusalOf } from './hub-request.ts';
import { parseAdminCertificate } from './identity.ts';
import { EC_ALGORITHM, spkiOfKey, webKeysOf, x509 } from './x509.ts';

const b64 = z.string().max(4096).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const AdminEnrolRequestSchema = z.strictObject({
  v: z.literal(1),
  role: z.literal('admin'),
  claimId: z.string().regex(/^[0-9A-Z]{4}$/),
  nonce: b64.min(16),
  /** PKCS#10, PEM, signed with the admin's new P-256 key; its CN is the admin's name. */
  csr: z.string().min(1).max(8192),
  mac: b64.min(1),
});
export type AdminEnrolRequest = z.output<typeof AdminEnrolRequestSchema>;

export const AdminEnrolResponseSchema = z.strictObject({
  certificate: z.string().min(1).max(16_384),
  ca: z.string().min(1).max(16_384),
  /** The hub's broker (`mqtts://host:port`), as the hub knows it. */
  broker: z.string().max(512),
  mac: b64.min(1),
});
export type AdminEnrolResponse = z.output<typeof AdminEnrolResponseSchema>;

export const adminRequestMac = (key: Uint8Array, r: Omit<AdminEnrolRequest, 'mac'>): string =>
  mac(key, ['outpost-enrol-admin-request-v1', String(r.v), r.claimId, r.nonce, r.csr]);

export const adminResponseMac = (key: Uint8Array, requestMac: string, r: Omit<AdminEnrolResponse, 'mac'>): string =>
  mac(key, ['outpost-enrol-admin-response-v1', requestMac, r.certificate, r.ca, r.broker]);

export interface AdminGrantFacts {
  claim: ClaimRecord | undefined;
  marks: ClaimMarks;
  macValid: boolean;
  /** True when `name` holds a box's or the hub's certificate of this CA. */
  isNode: (name: string) => boolean;
  now: number;
}

/** The admin name a request is granted, or the TrustError it is refused with (pure). */
export function decideAdminEnrolment(f: AdminGrantFacts): string {
  if (f.claim === undefined || !f.macValid) throw new TrustError('trust.claim-wrong', 'wrong claim code: the hub has no claim with this code (check it, or make a new one with "outpost enrol create --admin NAME")');
  const state = claimState(f.claim, f.marks, f.now);
  if (state === 'revoked') throw new TrustError('trust.claim-revoked', `claim code ${f.claim.id} was revoked at the hub`);
  if (state === 'used') throw new TrustError('trust.claim-used', `claim code ${f.claim.id} was already used; a code certifies one admin only`);
  if (state === 'expired') throw new TrustError('trust.claim-expired', `claim code ${f.claim.id} expired at ${new Date(f.claim.expiresAt).toISOString()}`);
  if (f.claim.role !== 'admin' || f.claim.nodeId === undefined) throw new TrustError('trust.claim-role', `claim code ${f.claim.id} is for a box of site ${f.claim.site}, not for an admin`);
  if (f.isNode(f.claim.nodeId)) throw new TrustError('trust.claim-node', `${f.claim.nodeId} is a box's or the hub's id; an admin needs a name of its own`);
  return f.claim.nodeId;
}

export interface AdminIssuer {
  ca: CertificateAuthority;
  claims: ClaimBook;
  validityMs: number;
  /** The broker address told to the admin. */
  brokerUrl: () => string;
  now: () => number;
}

/** The hub's side: checks the request, spends the claim, issues the admin's certificate. */
export async function enrolAdmin(body: unknown, from: string, o: AdminIssuer): Promise<{ response: AdminEnrolResponse; name: string }> {
  const parsed = AdminEnrolRequestSchema.safeParse(body);
  if (!parsed.success) throw new TrustError('trust.protocol', `malformed admin enrolment request: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
  const req = parsed.data;
  const claim = o.claims.get(req.claimId);
  const key = claim ? Buffer.from(claim.key, 'hex') : undefined;
  const macValid = key !== undefined && same(adminRequestMac(key, req), req.mac);
  let csr: x509.Pkcs10CertificateRequest | undefined;
  if (macValid) csr = await selfSignedP256Csr(req.csr);
  const name = decideAdminEnrolment({
    claim,
    marks: claim ? o.claims.marks(claim.id) : {},
    macValid,
    isNode: (n) => o.ca.isCertified(n),
    now: o.now(),
  });
  if (!o.claims.markUsed(req.claimId, { at: o.now(), nodeId: name, from })) throw new TrustError('trust.claim-used', `claim code ${req.claimId} was already used`);
  const certificate = await o.ca.issue({ identity: { nodeId: name, site: '', role: 'admin', nodeKey: undefined }, publicKey: new Uint8Array(csr!.publicKey.rawData), validityMs: o.validityMs });
  const unsigned = { certificate, ca: o.ca.certificatePem, broker: o.brokerUrl() };
  return { name, response: { ...unsigned, mac: adminResponseMac(key!, req.mac, unsigned) } };
}

export interface AdminCredential {
  key: string;
  cert: string;
  ca: string;
  broker: string;
  name: string;
}

/**
 * The admin's side (`outpost admin login`): a new key, the request, and the checked answer.
 * The claim names the admin; the CSR's subject is only a placeholder.
 */
export async function loginAdmin(hubUrl: string, code: ClaimCode, timeoutMs = 15_000): Promise<AdminCredential> {
  const name = 'admin';
  const k = claimKey(code);
  const tlsKey = newTlsKey();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${name}`, keys: await webKeysOf(tlsKey), signingAlgorithm: EC_ALGORITHM });
  const unsigned = { v: 1 as const, role: 'admin' as const, claimId: code.id, nonce: randomBytes(16).toString('base64'), csr: csr.toString('pem') };
  const request: AdminEnrolRequest = { ...unsigned, mac: adminRequestMac(k, unsigned) };
  const answer = await postToHub(hubUrl, ENROL_PATH, request, { kind: 'unverified' }, timeoutMs);
  if (answer.status !== 200) throw refusalOf('enrolment', answer);
  const parsed = AdminEnrolResponseSchema.safeParse(answer.body);
  if (!parsed.success) throw new TrustError('trust.protocol', 'the hub answered with something that is not an admin enrolment response');
  const res = parsed.data;
  if (!same(adminResponseMac(k, request.mac, res), res.mac)) throw new TrustError('trust.tampered', 'the answer is not authenticated by the claim code (altered on the way, or not from the hub); nothing was stored');
  const cert = new NodeX509(res.certificate);
  const ca = new NodeX509(res.ca);
  if (!ca.ca || !cert.verify(ca.publicKey)) throw new TrustError('trust.certificate', 'the certificate the hub sent is not signed by its CA');
  if (!spkiOfKey(cert.publicKey).equals(spkiOfKey(createPrivateKey(tlsKey)))) throw new TrustError('trust.certificate', 'the certificate the hub sent certifies another key');
  const facts = parseAdminCertificate(res.certificate);
  return { key: tlsKey, cert: res.certificate, ca: res.ca, broker: res.broker, name: facts.nodeId };
}
