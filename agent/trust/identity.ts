/**
 * The certificate profile of Outpost, and the identity read back from a certificate: what the
 * brokers' ACLs, the replication and inter-box SIP will take a node's id, site and role from
 * (DESIGN.md §9, §10). docs/enrolment.md describes it; issue and parse stay in this one file.
 *
 * - subject `CN=<node id>`; SAN URIs `urn:outpost:node:<id>`, `urn:outpost:role:node|hub|admin|broker`,
 *   and `urn:outpost:site:<site>` for a box; for the hub, also DNS and IP names it is reached by;
 * - role `broker`: the server certificate of an external broker (Mosquitto, named after the hub
 *   it serves). It is no node's identity: parseCertificate refuses it, so no broker, replica or
 *   SIP peer takes it for a node or the hub; only a link checking its broker accepts it
 *   (parseServerCertificate, agent/sync/link-tls.ts);
 * - extended key usage clientAuth and serverAuth, key usage digitalSignature, not a CA;
 * - the node's replication key (ed25519, agent/sync/node-key.ts) as one more SAN URI,
 *   `urn:outpost:nodekey:<SubjectPublicKeyInfo DER, base64url>`, so the certificate binds the key
 *   that signs the node's batches. (A private extension would need an OID arc of our own; a URI
 *   is read by every X.509 tool and by Node's X509Certificate.subjectAltName.)
 * - an admin (`outpost admin login`, agent/admin/) is certified with role `admin`, its name as
 *   the node id, no site and no node key. parseCertificate() refuses such a certificate, so it
 *   is never taken for a node or the hub (brokers' links, inter-box SIP, renewal, states);
 *   only parseAdminCertificate() and the broker's ACL (parseAnyCertificate) accept it.
 */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import { TrustError } from './errors.ts';
import { x509 } from './x509.ts';

export type NodeRole = 'node' | 'hub';
/** A node's role, `admin` (an admin of the admin API), or `broker` (an external broker's server certificate); only node and hub are a node's identity. */
export type CertificateRole = NodeRole | 'admin' | 'broker';

export interface NodeIdentity {
  nodeId: string;
  /** The box's site; '' for the hub. */
  site: string;
  role: NodeRole;
  /** The ed25519 replication key, SPKI DER base64 (as NodeKey.publicKey), when bound. */
  nodeKey: string | undefined;
}

/** Who a certificate names, broker certificates included (issue them with CertificateAuthority.issue). */
export interface CertifiedIdentity extends Omit<NodeIdentity, 'role'> {
  role: CertificateRole;
}

export interface CertificateFacts extends NodeIdentity {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, upper-case hex pairs joined by ':' (as `openssl x509 -fingerprint -sha256`). */
  fingerprint: string;
}

const URN = 'urn:outpost:';
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The identity extensions of a node or hub certificate (subject alternative names, key usages, node key). */
export function identityExtensions(id: CertifiedIdentity, serverNames: readonly string[] = []): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    { type: 'url', value: `${URN}node:${id.nodeId}` },
    { type: 'url', value: `${URN}role:${id.role}` },
  ];
  if (id.site !== '') names.push({ type: 'url', value: `${URN}site:${id.site}` });
  if (id.nodeKey !== undefined) names.push({ type: 'url', value: `${URN}nodekey:${Buffer.from(id.nodeKey, 'base64').toString('base64url')}` });
  for (const n of serverNames) names.push({ type: isIP(n) ? 'ip' : 'dns', value: n });
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth], false),
    new x509.SubjectAlternativeNameExtension(names, false),
  ];
}

/**
 * Reads the identity and dates of a node's or the hub's certificate (PEM); throws
 * TrustError('trust.certificate') if it does not follow the profile, or is an admin's or a broker's.
 */
export function parseCertificate(pem: string): CertificateFacts {
  const facts = parseAnyCertificate(pem);
  if (facts.role === 'admin' || facts.role === 'broker') throw new TrustError('trust.certificate', `the certificate of ${facts.nodeId} is ${facts.role === 'admin' ? 'an admin' : 'a broker'}'s: it is no node's or hub's identity`);
  return { ...facts, role: facts.role };
}

/** The facts of an admin's certificate: its name is `nodeId`. Throws TrustError('trust.certificate') for any other. */
export function parseAdminCertificate(pem: string): Omit<CertificateFacts, 'role'> & { role: 'admin' } {
  const facts = parseAnyCertificate(pem);
  if (facts.role !== 'admin') throw new TrustError('trust.certificate', `certificate of ${facts.nodeId} is a ${facts.role}'s, not an admin's`);
  return { ...facts, role: 'admin' };
}

/** parseCertificate, a broker's certificate (role `broker`) included: only for checking the broker a link reaches. */
export function parseServerCertificate(pem: string): Omit<CertificateFacts, 'role'> & { role: NodeRole | 'broker' } {
  const facts = parseAnyCertificate(pem);
  if (facts.role === 'admin') throw new TrustError('trust.certificate', `the certificate of ${facts.nodeId} is an admin's, not a broker's`);
  return { ...facts, role: facts.role };
}

/** Reads a certificate of any role of the profile (the broker's guard, which also admits admins). */
export function parseAnyCertificate(pem: string): Omit<CertificateFacts, 'role'> & { role: CertificateRole } {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch (err) {
    throw new TrustError('trust.certificate', `not a certificate: ${(err as Error).message}`, { cause: err });
  }
  const uris = (cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value);
  const one = (kind: string): string | undefined => {
    const values = uris.filter((u) => u.startsWith(`${URN}${kind}:`)).map((u) => u.slice(URN.length + kind.length + 1));
    if (values.length > 1) throw new TrustError('trust.certificate', `certificate ${cert.subject} names more than one ${kind}`);
    return values[0];
  };
  const nodeId = one('node');
  const role = one('role');
  const site = one('site') ?? '';
  if (nodeId === undefined || !ID.test(nodeId)) throw new TrustError('trust.certificate', `certificate ${cert.subject} names no valid node id (${URN}node:<id>)`);
  if (role !== 'node' && role !== 'hub' && role !== 'admin' && role !== 'broker') throw new TrustError('trust.certificate', `certificate of ${nodeId} names no role (${URN}role:node|hub|admin|broker)`);
  if (role === 'node' && !ID.test(site)) throw new TrustError('trust.certificate', `certificate of box ${nodeId} names no valid site (${URN}site:<site>)`);
  const nodeKey = one('nodekey');
  if (role === 'admin' && (site !== '' || nodeKey !== undefined)) throw new TrustError('trust.certificate', `admin certificate of ${nodeId} names a site or a node key`);
  return {
    nodeId,
    site,
    role,
    nodeKey: nodeKey === undefined ? undefined : Buffer.from(nodeKey, 'base64url').toString('base64'),
    serial: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint: fingerprintOf(pem),
  };
}

/** SHA-256 fingerprint of a certificate (PEM), `AB:CD:…`. */
export function fingerprintOf(pem: string): string {
  try {
    return new NodeX509(pem).fingerprint256;
  } catch (err) {
    throw new TrustError('trust.certificate', `not a certificate: ${(err as Error).message}`, { cause: err });
  }
}

/** Short form of a fingerprint for people: the first 8 bytes. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.split(':').slice(0, 8).join(':');
}
