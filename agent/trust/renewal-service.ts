/**
 * The hub's side of a renewal (docs/enrolment.md "Renewal"), without HTTP: a box presents its
 * current certificate (the client certificate of the mutual TLS connection) and a new
 * certificate request signed by its node key; the hub issues a certificate for the same identity
 * (node id, site, role, node key) with a fresh validity. It refuses a certificate it did not sign,
 * one that expired, one that is revoked (agent/trust/revocation.ts), the hub's own, and a request
 * for another id or key: TrustError('trust.renewal') with the reason, logged here at warn. A
 * renewal never needs the claim secret; the CA key stays in the CA.
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { CertificateAuthority } from './ca.ts';
import { checkCsr } from './enrol-protocol.ts';
import { TrustError } from './errors.ts';
import { parseCertificate } from './identity.ts';
import { revocationReason, type RevocationLookup } from './revocation.ts';

export interface RenewalRequest {
  /** PKCS#10, PEM, with the new TLS key, CN = the node id. */
  csr: string;
  /** ed25519 signature of the CSR's DER by the node key (as in enrolment). */
  nodeKeyProof: string;
}

export interface RenewalServiceOptions {
  ca: CertificateAuthority;
  revoked: RevocationLookup;
  /** Validity of the new certificate, ms. */
  validityMs: number;
  clock: Clock;
  logger: Logger;
}

export class RenewalService {
  constructor(private readonly o: RenewalServiceOptions) {}

  /** Issues the renewed certificate (PEM) for the holder of `presented` (PEM); throws TrustError. */
  async renew(presented: string, req: RenewalRequest, from: string): Promise<{ certificate: string; ca: string }> {
    try {
      const facts = this.check(presented);
      const csr = await checkCsr(req.csr, facts.nodeKey!, req.nodeKeyProof);
      if (csr.commonName !== facts.nodeId) throw new TrustError('trust.renewal', `the request names ${String(csr.commonName)}, the certificate ${facts.nodeId}`);
      const identity = { nodeId: facts.nodeId, site: facts.site, role: facts.role, nodeKey: facts.nodeKey };
      const certificate = await this.o.ca.issue({ identity, publicKey: csr.publicKey, validityMs: this.o.validityMs });
      const renewed = parseCertificate(certificate);
      this.o.logger.info({ from, node: facts.nodeId, old: facts.serial, serial: renewed.serial, until: renewed.notAfter.toISOString() }, 'certificate renewed');
      return { certificate, ca: this.o.ca.certificatePem };
    } catch (err) {
      if (err instanceof TrustError) this.o.logger.warn({ from, code: err.code, reason: err.message }, 'renewal refused');
      throw err;
    }
  }

  private check(presented: string) {
    if (!this.o.ca.signed(presented)) throw new TrustError('trust.renewal', 'the presented certificate was not issued by this hub\'s CA');
    const facts = parseCertificate(presented);
    if (facts.role !== 'node') throw new TrustError('trust.renewal', 'only box certificates renew this way');
    if (facts.nodeKey === undefined) throw new TrustError('trust.renewal', `the certificate of ${facts.nodeId} binds no node key`);
    if (facts.notAfter.getTime() <= this.o.clock.now()) throw new TrustError('trust.renewal', `the certificate of ${facts.nodeId} expired at ${facts.notAfter.toISOString()}: enrol again`);
    const revoked = revocationReason(facts.serial, this.o.revoked);
    if (revoked !== undefined) throw new TrustError('trust.renewal', revoked);
    return facts;
  }
}
