/**
 * Which public key a replica trusts for a node id (docs/replication.md, "Keys"), as one pure
 * decision: the first key seen for an id is pinned (trust on first use); a different key later
 * is refused, unless the hub recorded a replacement of the pinned key (`outpost node replace`),
 * and then only once: the replacement names the key it retires, so once the new key is pinned
 * neither the old key nor a third one passes. The one place to swap for certificates.
 */
import { createHash } from 'node:crypto';

/** A replacement the hub recorded for a node (the `node_rekeys` row). */
export interface KeyReplacement {
  /** The key the replacement retires (base64 SPKI); the next other key is pinned instead. */
  oldPublicKey: string;
}

/** first: pin (nothing pinned yet); same: the pinned key; replace: pin it in place of the old; refuse. */
export type PinDecision = 'first' | 'same' | 'replace' | 'refuse';

export function decidePin(pinned: string | undefined, announced: string, replacement: KeyReplacement | undefined): PinDecision {
  if (pinned === undefined) return replacement?.oldPublicKey === announced ? 'refuse' : 'first';
  if (pinned === announced) return 'same';
  if (replacement !== undefined && replacement.oldPublicKey === pinned) return 'replace';
  return 'refuse';
}

/** A short, stable name of a public key for logs and the CLI: `sha256:` and 16 hex digits. */
export function keyFingerprint(publicKeyB64: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(publicKeyB64, 'base64')).digest('hex').slice(0, 16)}`;
}
