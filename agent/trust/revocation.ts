/**
 * Revocation (issue 12 item 5, docs/security.md "Revocation"): a certificate whose serial the
 * hub's admin listed in `node_revocations` (replicated to every replica like other admin rows,
 * so a box cut off from the hub still enforces what it already has) is refused everywhere: at a
 * broker's CONNECT and on each publish of a client already connected (broker-guard.ts), in a node
 * state (peer-directory.ts) and for the batches of a node whose believed certificate is revoked
 * (batch-receiver.ts); inter-box SIP signed with the node key a revoked certificate binds is
 * refused too (agent/main.ts keyOf). Pure decisions over a lookup of the list.
 */

export interface RevokedEntry {
  nodeId: string;
  revokedAt: number;
}

/** The revocation of a serial (hex, any case), if listed. */
export type RevocationLookup = (serial: string) => RevokedEntry | undefined;

/** The stable warning every refusal of a revoked certificate is logged with. */
export const REVOKED_MESSAGE = 'revoked node certificate refused';

/** Why a certificate (its serial) is refused, or undefined when it is not revoked. */
export function revocationReason(serial: string | undefined, lookup: RevocationLookup): string | undefined {
  if (serial === undefined) return undefined;
  const entry = lookup(serial.toLowerCase());
  return entry === undefined ? undefined : `certificate ${serial.toLowerCase()} of ${entry.nodeId} revoked at ${new Date(entry.revokedAt).toISOString()}`;
}

/**
 * Whether the batches of a node are refused: its believed certificate (the serial of its last
 * accepted state) is revoked; or it has revocations and this replica believes no certificate of it
 * (known only from a pinned key after a restart): a revoked box must not slip in before its state.
 */
export function nodeRevoked(believedSerial: string | undefined, revokedOfNode: number, lookup: RevocationLookup): boolean {
  if (believedSerial === undefined) return revokedOfNode > 0;
  return lookup(believedSerial.toLowerCase()) !== undefined;
}
