/**
 * The hub's checks of an admin request before anything runs (docs/mqtt/admin.md "What the hub
 * refuses"), pure over an injected clock: the payload's shape; the certificate (signed by this
 * hub's CA, role admin, naming the admin the request names, within its dates, not revoked); the
 * signature over canonicalRequest(); the timestamp within `windowMs` of the hub's clock; and the
 * transaction id not seen from this admin within the window (a replay). A transaction id is
 * remembered only once its signature verified, so a forger cannot burn an admin's ids.
 */
import { X509Certificate, verify } from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import { AdminRequestSchema, canonicalRequest, type AdminRequest } from '../wire/admin.ts';
import { parseAdminCertificate } from '../trust/identity.ts';
import { revocationReason, type RevocationLookup } from '../trust/revocation.ts';

type AdminFacts = ReturnType<typeof parseAdminCertificate>;
/** Certificates whose checks are kept (dates and revocation are checked on every request). */
const MAX_CACHED_CERTIFICATES = 256;

export type Verdict =
  | { ok: true; request: AdminRequest }
  /** `admin`/`transaction` as the payload claimed them, when it had them: where to answer. */
  | { ok: false; reason: string; admin: string | undefined; transaction: string | undefined };

export interface VerifierOptions {
  /** The hub's CA certificate, PEM. */
  caPem: string;
  revoked: RevocationLookup;
  clock: Clock;
  /** How far a request's timestamp may be from the hub's clock, either way. */
  windowMs: number;
}

export class RequestVerifier {
  private readonly ca: X509Certificate;
  /** `admin/transaction` → when it may be forgotten (its timestamp is then stale anyway). */
  private readonly seen = new Map<string, number>();
  private readonly certificates = new Map<string, { cert: X509Certificate; facts: AdminFacts } | { problem: string }>();

  constructor(private readonly o: VerifierOptions) {
    this.ca = new X509Certificate(o.caPem);
  }

  verify(op: string, payload: unknown): Verdict {
    const claimed = payload as { admin?: unknown; transaction?: unknown } | null;
    const refuse = (reason: string): Verdict => ({
      ok: false,
      reason,
      admin: typeof claimed?.admin === 'string' ? claimed.admin : undefined,
      transaction: typeof claimed?.transaction === 'string' ? claimed.transaction : undefined,
    });
    const parsed = AdminRequestSchema.safeParse(payload);
    if (!parsed.success) return refuse(`malformed request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`);
    const r = parsed.data;
    const now = this.o.clock.now();
    const checked = this.checkCertificate(r.cert);
    if ('problem' in checked) return refuse(checked.problem);
    const { cert, facts } = checked;
    if (facts.nodeId !== r.admin) return refuse(`the certificate is admin ${facts.nodeId}'s, the request names ${r.admin}`);
    if (now < facts.notBefore.getTime() || now > facts.notAfter.getTime()) return refuse(`the certificate of admin ${r.admin} is not valid now (${facts.notBefore.toISOString()} to ${facts.notAfter.toISOString()})`);
    const revoked = revocationReason(facts.serial, this.o.revoked);
    if (revoked !== undefined) return refuse(`revoked: ${revoked}`);
    let signed = false;
    try {
      signed = verify('sha256', canonicalRequest(op, r), cert.publicKey, Buffer.from(r.sig, 'base64'));
    } catch {
      signed = false;
    }
    if (!signed) return refuse('the signature does not verify with the admin\'s certificate');
    if (Math.abs(now - r.ts) > this.o.windowMs) return refuse(`stale request: signed at ${new Date(r.ts).toISOString()}, more than ${this.o.windowMs / 1000} s from the hub's clock`);
    this.forget(now);
    const key = `${r.admin}/${r.transaction}`;
    if (this.seen.has(key)) return refuse(`replayed request: transaction ${r.transaction} was already received`);
    this.seen.set(key, r.ts + this.o.windowMs);
    return { ok: true, request: r };
  }

  /** The certificate's facts once it is known to be an admin's of this CA; cached by its text (an admin sends the same one each time). */
  private checkCertificate(pem: string): { cert: X509Certificate; facts: AdminFacts } | { problem: string } {
    const cached = this.certificates.get(pem);
    if (cached) return cached;
    let result: { cert: X509Certificate; facts: AdminFacts } | { problem: string };
    try {
      const cert = new X509Certificate(pem);
      result = cert.verify(this.ca.publicKey) ? { cert, facts: parseAdminCertificate(pem) } : { problem: 'the certificate is not issued by this hub\'s CA' };
    } catch (err) {
      result = { problem: `the certificate is not an admin's: ${(err as Error).message}` };
    }
    if (this.certificates.size >= MAX_CACHED_CERTIFICATES) this.certificates.clear();
    this.certificates.set(pem, result);
    return result;
  }

  /** How many transaction ids are remembered (tests, metrics). */
  get remembered(): number {
    return this.seen.size;
  }

  /** Drops ids whose window passed, oldest first; stops at the first one still within it (ids arrive roughly in time order). */
  private forget(now: number): void {
    for (const [key, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(key);
    }
  }
}
