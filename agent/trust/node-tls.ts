/**
 * A node's TLS identity at start (docs/security.md): its credentials (credentials.ts) and what
 * its certificate says, checked against its config and its replication key. A certificate for
 * another node id, site or role, or one that binds another node key, stops the start with a
 * TrustError: the certificate, not the config, is what every other node will believe.
 */
import { readCredentials, hasCredentials, type Credentials } from './credentials.ts';
import { TrustError } from './errors.ts';
import { parseCertificate, type NodeIdentity } from './identity.ts';

export interface NodeTls {
  credentials: Credentials;
  identity: NodeIdentity;
}

/** The node's TLS identity, or undefined when its data directory holds no certificate yet. */
export function loadNodeTls(dataDir: string, expected: NodeIdentity): NodeTls | undefined {
  if (!hasCredentials(dataDir)) return undefined;
  const credentials = readCredentials(dataDir);
  const identity = parseCertificate(credentials.cert);
  const wrong: string[] = [];
  if (identity.nodeId !== expected.nodeId) wrong.push(`node id ${identity.nodeId} (config: ${expected.nodeId})`);
  if (identity.role !== expected.role) wrong.push(`role ${identity.role} (config: ${expected.role})`);
  if (identity.site !== expected.site) wrong.push(`site ${identity.site} (config: ${expected.site})`);
  if (identity.nodeKey !== expected.nodeKey) wrong.push('another node key than node.key');
  if (wrong.length > 0) throw new TrustError('trust.certificate', `${dataDir}/node.crt names ${wrong.join(', ')}: enrol again (outpost enrol join) or fix the config`);
  return { credentials, identity };
}
