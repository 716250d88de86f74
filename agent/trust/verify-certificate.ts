/**
 * Is a certificate a node presents (in its state, docs/security.md) one the hub's CA issued,
 * valid now, and what identity does it name? The receivers of node states take a node's site,
 * role and Ed25519 node key from here instead of from what the state says.
 */
import { X509Certificate } from 'node:crypto';
import { TrustError } from './errors.ts';
import { parseCertificate, type CertificateFacts } from './identity.ts';

/** PEM of a certificate given as DER, base64. */
export function pemOfDer(derB64: string): string {
  const lines = derB64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** DER, base64, of a certificate given as PEM (what a node state carries). */
export function derOfPem(pem: string): string {
  return new X509Certificate(pem).raw.toString('base64');
}

/**
 * The identity of `certificate` (DER base64) if `caPem` signed it and it is valid at `now`
 * (ms); throws TrustError('trust.certificate') saying why not.
 */
export function verifyNodeCertificate(certificate: string, caPem: string, now: number): CertificateFacts {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(certificate, 'base64'));
    ca = new X509Certificate(caPem);
  } catch (err) {
    throw new TrustError('trust.certificate', `not a certificate: ${(err as Error).message}`, { cause: err });
  }
  // The signature is the check (X509Certificate.checkIssued also compares name encodings,
  // which differ between the CA's self-signed certificate and the ones it issues).
  if (cert.issuer !== ca.subject || !cert.verify(ca.publicKey)) throw new TrustError('trust.certificate', `certificate ${cert.subject.replace(/\n/g, ', ')} is not issued by this fleet's CA`);
  const facts = parseCertificate(cert.toString());
  if (now < facts.notBefore.getTime() || now > facts.notAfter.getTime()) {
    throw new TrustError('trust.certificate', `certificate of ${facts.nodeId} is not valid now (${facts.notBefore.toISOString()} to ${facts.notAfter.toISOString()})`);
  }
  return facts;
}
