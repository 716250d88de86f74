/**
 * Revokes every certificate the hub's CA issued for a box (`outpost node revoke|replace`, the
 * admin op `node.revoke`): their serials go into `node_revocations` in the hub's store, which
 * replicates; every replica then refuses them (agent/trust/revocation.ts, docs/cli/node-revoke.md).
 */
import type { Store } from '../store/store.ts';
import { issuedCertificates } from '../trust/issued-certificates.ts';
import { AdminError } from './errors.ts';

export interface RevokeOutcome {
  /** Serials revoked now. */
  revoked: string[];
  /** Serials that were revoked already. */
  already: number;
}

/** Revokes every certificate issued for `nodeId` (hub's data dir) in the hub's store; AdminError('admin.invalid') when there is none. */
export function revokeIssued(store: Store, hubDataDir: string, nodeId: string, now: number): RevokeOutcome {
  const certificates = issuedCertificates(hubDataDir, nodeId);
  if (certificates.length === 0) throw new AdminError('admin.invalid', `the hub's CA issued no certificate for ${nodeId}: nothing to revoke`);
  const out: RevokeOutcome = { revoked: [], already: 0 };
  for (const c of certificates) {
    if (store.revocations.revoke(c.serial, nodeId, now, c.nodeKey ?? '')) out.revoked.push(c.serial.toLowerCase());
    else out.already++;
  }
  return out;
}
