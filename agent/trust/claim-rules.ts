/**
 * The decisions of enrolment, pure and clocked: whether a claim is still good, and which identity
 * an enrolment request gets. The hub's HTTP shell (enrol-server.ts) gathers the facts (the claim
 * record and its marks, whether the request's MAC and CSR check out) and acts on the answer.
 */
import { TrustError } from './errors.ts';

export interface ClaimRecord {
  /** The first group of the code. */
  id: string;
  site: string;
  /** The node id the claim is bound to; undefined: the box names itself in its CSR. */
  nodeId: string | undefined;
  /** The scrypt key derived from the code (claim-code.ts claimKey), hex. Never the code. */
  key: string;
  createdAt: number;
  expiresAt: number;
  /** 'admin': the claim certifies an admin named `nodeId` (agent/trust/admin-enrolment.ts), never a box. */
  role?: 'admin';
}

/** What happened to a claim after it was made (files beside it, see claim-book.ts). */
export interface ClaimMarks {
  used?: { at: number; nodeId: string; from: string };
  revoked?: { at: number };
}

export type ClaimState = 'open' | 'used' | 'expired' | 'revoked';

export function claimState(claim: ClaimRecord, marks: ClaimMarks, now: number): ClaimState {
  if (marks.revoked) return 'revoked';
  if (marks.used) return 'used';
  return now >= claim.expiresAt ? 'expired' : 'open';
}

export interface EnrolmentFacts {
  /** The claim named by the request's claim id, if the hub has one. */
  claim: ClaimRecord | undefined;
  marks: ClaimMarks;
  /** The request's MAC verified with the claim's key. */
  macValid: boolean;
  /** The site the box is configured for. */
  requestedSite: string;
  /** The node id the CSR's subject names (CN), if any. */
  requestedNodeId: string | undefined;
  /** True when `nodeId` already holds a certificate of this CA. */
  isCertified: (nodeId: string) => boolean;
  /** The hub's own id: never given to a box. */
  hubId: string;
  now: number;
}

export interface Grant {
  nodeId: string;
  site: string;
}

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The identity an enrolment request is granted, or the TrustError it is refused with. A wrong
 * code and an unknown claim id look the same to the box; whether a claim is used, expired or
 * revoked is told only to a request that proved it holds the code (valid MAC).
 */
export function decideEnrolment(f: EnrolmentFacts): Grant {
  if (f.claim === undefined || !f.macValid) throw new TrustError('trust.claim-wrong', 'wrong claim code: the hub has no claim with this code (check it, or make a new one with "outpost enrol create")');
  const state = claimState(f.claim, f.marks, f.now);
  if (state === 'revoked') throw new TrustError('trust.claim-revoked', `claim code ${f.claim.id} was revoked at the hub`);
  if (state === 'used') throw new TrustError('trust.claim-used', `claim code ${f.claim.id} was already used (by box ${f.marks.used!.nodeId}); a code enrols one box only`);
  if (state === 'expired') throw new TrustError('trust.claim-expired', `claim code ${f.claim.id} expired at ${new Date(f.claim.expiresAt).toISOString()}`);
  if (f.claim.role === 'admin') throw new TrustError('trust.claim-role', `claim code ${f.claim.id} is for admin ${f.claim.nodeId}, not for a box (use it with outpost admin login)`);
  if (f.requestedSite !== f.claim.site) {
    throw new TrustError('trust.claim-site', `claim code ${f.claim.id} is for site ${f.claim.site}, but this box is configured for site ${f.requestedSite} (node.site)`);
  }
  const requested = f.requestedNodeId;
  if (f.claim.nodeId !== undefined) {
    if (requested !== undefined && requested !== f.claim.nodeId) {
      throw new TrustError('trust.claim-node', `claim code ${f.claim.id} is for box ${f.claim.nodeId}, not ${requested}`);
    }
    return { nodeId: f.claim.nodeId, site: f.claim.site };
  }
  if (requested === undefined || !NODE_ID.test(requested)) {
    throw new TrustError('trust.claim-node', `claim code ${f.claim.id} names no box: the request must name the node id (1-63 lowercase letters, digits or dashes)`);
  }
  if (requested === f.hubId) throw new TrustError('trust.claim-node', `node id ${requested} is the hub's`);
  // Taking over a certified id needs the admin's word: a claim made for that id (--node).
  if (f.isCertified(requested)) {
    throw new TrustError('trust.claim-node', `box ${requested} already has a certificate; a claim made with --node ${requested} is needed to enrol a box under that id again`);
  }
  return { nodeId: requested, site: f.claim.site };
}

/** When a new claim expires, from a TTL such as `24h`, `30m`, `7d`, `90s`; throws on a bad TTL. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) throw new TrustError('trust.claim-format', `invalid TTL "${text}": use a number and s, m, h or d (e.g. 24h)`);
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (ms < 60_000 || ms > 30 * 86_400_000) throw new TrustError('trust.claim-format', `invalid TTL "${text}": a claim lives between 1 minute and 30 days`);
  return ms;
}
