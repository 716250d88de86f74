/**
 * Identity from the certificate, not from what a node says (issue 12, item 4;
 * docs/security.md): a node state is believed only if it carries a certificate of the fleet's CA
 * that names the same node id, site and role and binds the same Ed25519 node key. One pure
 * decision; PeerDirectory applies it when this replica has a CA (every replica but the insecure
 * dev mode, which still pins keys on first use: key-pinning.ts).
 */
import { verifyNodeCertificate } from '../trust/verify-certificate.ts';
import type { NodeState } from '../wire/messages.ts';

export type StateVerdict = { ok: true; serial: string } | { ok: false; reason: string };

export function checkCertifiedState(state: NodeState, caPem: string, now: number): StateVerdict {
  if (state.certificate === undefined) return { ok: false, reason: 'no certificate' };
  let facts;
  try {
    facts = verifyNodeCertificate(state.certificate, caPem, now);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const wrong: string[] = [];
  if (facts.nodeId !== state.nodeId) wrong.push(`node id ${state.nodeId}, certificate ${facts.nodeId}`);
  if (facts.role !== state.role) wrong.push(`role ${state.role}, certificate ${facts.role}`);
  if (facts.site !== state.site) wrong.push(`site "${state.site}", certificate "${facts.site}"`);
  if (facts.nodeKey !== state.publicKey) wrong.push('a node key the certificate does not bind');
  return wrong.length === 0 ? { ok: true, serial: facts.serial } : { ok: false, reason: `state says ${wrong.join('; ')}` };
}
