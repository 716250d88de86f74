/**
 * The hub's side of an enrolment, without HTTP: checks a request against the claim book and
 * the CA (facts for decideEnrolment), marks the claim used, issues the certificate and MACs the
 * answer. Every refusal is a TrustError for the box and one log line here, without the code.
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { CertificateAuthority } from './ca.ts';
import type { ClaimBook } from './claim-book.ts';
import { decideEnrolment } from './claim-rules.ts';
import { checkCsr, EnrolRequestSchema, responseMac, verifyRequestMac, type EnrolResponse, type CheckedCsr } from './enrol-protocol.ts';
import { TrustError } from './errors.ts';
import { enrolAdmin, type AdminEnrolResponse } from './admin-enrolment.ts';

export interface EnrolmentServiceOptions {
  ca: CertificateAuthority;
  claims: ClaimBook;
  hubId: string;
  /** Validity of issued certificates. */
  certificateDays: number;
  /** Validity of issued certificates in ms (`ca.certificateValidity`); wins over certificateDays. */
  validityMs?: number;
  clock: Clock;
  logger: Logger;
  /** The broker address an admin is told at enrolment (admin-enrolment.ts); absent: none. */
  brokerUrl?: () => string;
}

export class EnrolmentService {
  constructor(private readonly o: EnrolmentServiceOptions) {}

  /** Answers one request body from `from` (the source address); throws TrustError when refused. */
  async enrol(body: unknown, from: string): Promise<EnrolResponse | AdminEnrolResponse> {
    try {
      return await this.decideAndIssue(body, from);
    } catch (err) {
      if (err instanceof TrustError) this.o.logger.warn({ from, claim: claimIdOf(body), code: err.code, reason: err.message }, 'enrolment refused');
      throw err;
    }
  }

  private async decideAndIssue(body: unknown, from: string): Promise<EnrolResponse | AdminEnrolResponse> {
    if ((body as { role?: unknown } | null)?.role === 'admin') {
      const validityMs = this.o.validityMs ?? this.o.certificateDays * 86_400_000;
      const { response, name } = await enrolAdmin(body, from, { ca: this.o.ca, claims: this.o.claims, validityMs, brokerUrl: this.o.brokerUrl ?? (() => ''), now: () => this.o.clock.now() });
      this.o.logger.info({ from, admin: name }, 'admin enrolled');
      return response;
    }
    const parsed = EnrolRequestSchema.safeParse(body);
    if (!parsed.success) throw new TrustError('trust.protocol', `malformed enrolment request: ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    const claim = this.o.claims.get(req.claimId);
    const macValid = claim !== undefined && verifyRequestMac(Buffer.from(claim.key, 'hex'), req);
    // The CSR is looked at only for a request that holds the code.
    let csr: CheckedCsr | undefined;
    if (macValid) csr = await checkCsr(req.csr, req.nodeKey, req.nodeKeyProof);
    const grant = decideEnrolment({
      claim,
      marks: claim ? this.o.claims.marks(claim.id) : {},
      macValid,
      requestedSite: req.site,
      requestedNodeId: csr?.commonName,
      isCertified: (id) => this.o.ca.isCertified(id),
      hubId: this.o.hubId,
      now: this.o.clock.now(),
    });
    const identity = { nodeId: grant.nodeId, site: grant.site, role: 'node' as const, nodeKey: req.nodeKey };
    // Used before issued: if issuing fails the code is spent, never used twice.
    if (!this.o.claims.markUsed(req.claimId, { at: this.o.clock.now(), nodeId: grant.nodeId, from })) {
      throw new TrustError('trust.claim-used', `claim code ${req.claimId} was already used; a code enrols one box only`);
    }
    const certificate = await this.o.ca.issue({ identity, publicKey: csr!.publicKey, days: this.o.certificateDays, ...(this.o.validityMs !== undefined ? { validityMs: this.o.validityMs } : {}) });
    const ca = this.o.ca.certificatePem;
    this.o.logger.info({ from, claim: req.claimId, node: grant.nodeId, site: grant.site }, 'box enrolled');
    return { certificate, ca, mac: responseMac(Buffer.from(claim!.key, 'hex'), req.mac, certificate, ca) };
  }
}

function claimIdOf(body: unknown): string | undefined {
  const id = (body as { claimId?: unknown } | null)?.claimId;
  return typeof id === 'string' && /^[0-9A-Z]{4}$/.test(id) ? id : undefined;
}
