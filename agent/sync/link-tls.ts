/**
 * The TLS side of a broker link on `mqtts://` (docs/security.md): the node's certificate as
 * the client certificate, the hub's CA as the only trust anchor, and instead of a host name the
 * identity the server's certificate must name: the hub for the link to the hub's broker, the
 * peer for the link to a site peer's broker, the node itself for its own broker. Boxes have no
 * DNS names; their certificates name their node ids (identity.ts). Where the hub is expected, an
 * external broker's certificate (role `broker`, named after the hub, `outpost broker
 * mosquitto-config`) is accepted too: it serves the hub's broker, not as the hub.
 */
import type { PeerCertificate } from 'node:tls';
import type { Credentials } from '../trust/credentials.ts';
import { parseServerCertificate, type NodeRole } from '../trust/identity.ts';
import { SyncError } from './errors.ts';

/** Who the broker at the other end must be. */
export interface ExpectedServer {
  nodeId: string;
  role: NodeRole;
}

/** The server a replica's link must reach: `hub`, `self` or `peer:<id>`. */
export function expectedServer(link: string, self: { nodeId: string; role: NodeRole; hubId: string | undefined }): ExpectedServer {
  if (link.startsWith('peer:')) return { nodeId: link.slice('peer:'.length), role: 'node' };
  if (link === 'hub') return { nodeId: self.hubId ?? 'hub', role: 'hub' };
  return { nodeId: self.nodeId, role: self.role };
}

/** Why `cert` is not `expected`'s, or undefined when it is. */
export function serverIdentityProblem(cert: Pick<PeerCertificate, 'raw'>, expected: ExpectedServer): string | undefined {
  try {
    const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const facts = parseServerCertificate(pem);
    const role = facts.role === expected.role || (expected.role === 'hub' && facts.role === 'broker');
    if (facts.nodeId === expected.nodeId && role) return undefined;
    return `the broker's certificate names ${facts.role} ${facts.nodeId}, expected ${expected.role} ${expected.nodeId}`;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The options mqtt.js passes to tls.connect for a link that must reach `expected`. */
export function linkTlsOptions(credentials: Credentials, expected: ExpectedServer): Record<string, unknown> {
  return {
    key: credentials.key,
    cert: credentials.cert,
    ca: credentials.ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const problem = serverIdentityProblem(cert, expected);
      return problem === undefined ? undefined : new SyncError('sync.connect', problem);
    },
  };
}
