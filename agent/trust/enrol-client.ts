/**
 * The box's side of an enrolment (`outpost enrol join`): a new P-256 key, a CSR naming the node
 * id, the request MACed with the claim key; then the answer is accepted only if its MAC proves
 * it comes from the holder of the same code, the certificate certifies this key and this node key,
 * and the CA signed it. Only then are node-tls.key, node.crt and ca.crt written.
 */
import { createPrivateKey, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { claimKey, type ClaimCode } from './claim-code.ts';
import { hasCredentials, newTlsKey, writeCredentials } from './credentials.ts';
import { ENROL_PATH, EnrolResponseSchema, requestMac, verifyResponseMac, type EnrolRequest } from './enrol-protocol.ts';
import { TrustError } from './errors.ts';
import { postToHub, refusalOf } from './hub-request.ts';
import { parseCertificate, type CertificateFacts } from './identity.ts';
import { EC_ALGORITHM, spkiOfKey, webKeysOf, x509 } from './x509.ts';

export interface NodeKeySigner {
  /** SPKI DER, base64 (NodeKey.publicKey). */
  publicKey: string;
  sign(bytes: Uint8Array): Buffer;
}

export interface JoinOptions {
  /** `https://host:port` of the hub's enrolment endpoint. */
  hubUrl: string;
  code: ClaimCode;
  nodeId: string;
  /** The site the box is configured for (the claim must be for it). */
  site: string;
  dataDir: string;
  nodeKey: NodeKeySigner;
  timeoutMs?: number;
}

export interface Joined {
  certificate: CertificateFacts;
  caFingerprint: string;
  caSubject: string;
}

export interface PreparedRequest {
  request: EnrolRequest;
  tlsKey: string;
  claimKey: Buffer;
}

/** Builds the signed, MACed request (and the key it certifies). */
export async function prepareRequest(code: ClaimCode, nodeId: string, site: string, nodeKey: NodeKeySigner, key = claimKey(code)): Promise<PreparedRequest> {
  const tlsKey = newTlsKey();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${nodeId}`, keys: await webKeysOf(tlsKey), signingAlgorithm: EC_ALGORITHM });
  const unsigned = {
    v: 1 as const,
    claimId: code.id,
    site,
    nonce: randomBytes(16).toString('base64'),
    csr: csr.toString('pem'),
    nodeKey: nodeKey.publicKey,
    nodeKeyProof: nodeKey.sign(new Uint8Array(csr.rawData)).toString('base64'),
  };
  return { request: { ...unsigned, mac: requestMac(key, unsigned) }, tlsKey, claimKey: key };
}

/**
 * Checks the hub's answer to `prepared` and returns the credentials to store; throws
 * TrustError('trust.tampered') when it is not authentic, whatever else it says.
 */
export function acceptResponse(prepared: PreparedRequest, body: unknown): { cert: string; ca: string; facts: CertificateFacts } {
  const parsed = EnrolResponseSchema.safeParse(body);
  if (!parsed.success) throw new TrustError('trust.protocol', 'the hub answered with something that is not an enrolment response');
  const res = parsed.data;
  if (!verifyResponseMac(prepared.claimKey, prepared.request.mac, res)) {
    throw new TrustError('trust.tampered', 'the answer is not authenticated by the claim code (altered on the way, or not from the hub); nothing was stored');
  }
  let cert: NodeX509;
  let ca: NodeX509;
  try {
    cert = new NodeX509(res.certificate);
    ca = new NodeX509(res.ca);
  } catch (err) {
    throw new TrustError('trust.certificate', `the hub sent an unreadable certificate: ${(err as Error).message}`, { cause: err });
  }
  if (!ca.ca || !ca.verify(ca.publicKey)) throw new TrustError('trust.certificate', 'the CA certificate the hub sent is not a self-signed CA');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new TrustError('trust.certificate', 'the certificate the hub sent is not signed by its CA');
  if (!spkiOfKey(cert.publicKey).equals(spkiOfKey(createPrivateKey(prepared.tlsKey)))) throw new TrustError('trust.certificate', 'the certificate the hub sent certifies another key');
  const facts = parseCertificate(res.certificate);
  if (facts.nodeKey !== prepared.request.nodeKey) throw new TrustError('trust.certificate', 'the certificate the hub sent does not bind this box\'s node key');
  return { cert: res.certificate, ca: res.ca, facts };
}

/** Enrols the box in `dataDir` with the hub; writes its credentials and says what it got. */
export async function joinHub(o: JoinOptions): Promise<Joined> {
  if (hasCredentials(o.dataDir)) throw new TrustError('trust.files', `${o.dataDir} already holds a certificate (node.crt): this box is enrolled`);
  const prepared = await prepareRequest(o.code, o.nodeId, o.site, o.nodeKey);
  const answer = await postToHub(o.hubUrl, ENROL_PATH, prepared.request, { kind: 'unverified' }, o.timeoutMs ?? 15_000);
  if (answer.status !== 200) throw refusalOf('enrolment', answer);
  const accepted = acceptResponse(prepared, answer.body);
  if (accepted.facts.nodeId !== o.nodeId || accepted.facts.site !== o.site) {
    throw new TrustError('trust.certificate', `the hub certified box ${accepted.facts.nodeId} of site ${accepted.facts.site}, but this box is ${o.nodeId} of site ${o.site}`);
  }
  writeCredentials(o.dataDir, { key: prepared.tlsKey, cert: accepted.cert, ca: accepted.ca });
  const ca = new NodeX509(accepted.ca);
  return { certificate: accepted.facts, caFingerprint: ca.fingerprint256, caSubject: ca.subject.replace(/\n/g, ', ') };
}
