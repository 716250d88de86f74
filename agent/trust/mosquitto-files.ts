/**
 * The files Mosquitto serves the fleet with (docs/cli/broker.md), written into one directory by
 * `outpost broker mosquitto-config` and rewritten by the hub when a box enrols or is revoked
 * (mosquitto-reload.ts): `outpost.conf` (listener), `outpost.acl`, `outpost.crl` (the revoked
 * certificates, signed by the CA), `ca.crt`, and `server.crt`/`server.key`, the broker's own
 * certificate (role `broker`, identity.ts), which the hub also renews in its renewal window
 * (Mosquitto takes it on the same SIGHUP). The text is made in mosquitto-config.ts.
 */
import { createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AclIdentity } from './broker-acl.ts';
import { ADMIN_DIR, BACKDATE_MS, CA_DIR, type CertificateAuthority } from './ca.ts';
import { ClaimBook } from './claim-book.ts';
import { claimState } from './claim-rules.ts';
import { newTlsKey, writeFileAtomically } from './credentials.ts';
import { TrustError } from './errors.ts';
import { parseAdminCertificate, parseCertificate, parseServerCertificate } from './identity.ts';
import { issuedValidity, renewalOpens } from './renewal-schedule.ts';
import { mosquittoAcl, mosquittoListenerConf } from './mosquitto-config.ts';
import type { RevokedEntry } from './revocation.ts';
import { spkiOfKey } from './x509.ts';

export interface MosquittoFilesOptions {
  dir: string;
  hubDataDir: string;
  hubId: string;
  ca: CertificateAuthority;
  /** Where Mosquitto listens (the hub's `mqtt.url`). */
  listen: { host: string; port: number };
  /** Every revoked certificate (the hub's `node_revocations`). */
  revoked: ReadonlyArray<RevokedEntry & { serial: string }>;
  /** Validity of a server certificate issued here, days, and its names (`ca.serverNames`). */
  certificateDays: number;
  serverNames: readonly string[];
  /** Issue a new server certificate even when the directory holds one (the CLI does). */
  newServerCertificate: boolean;
  /** The hub: also issue one when the one there is in this renewal window (`renewal.window`). */
  renewWindow?: number;
  /** Validity of a new server certificate, ms (wins over certificateDays: `ca.certificateValidity`). */
  validityMs?: number | undefined;
  now: number;
}

export interface MosquittoFilePaths {
  conf: string;
  cafile: string;
  certfile: string;
  keyfile: string;
  aclFile: string;
  crlFile: string;
}

export function mosquittoFilePaths(dir: string): MosquittoFilePaths {
  return {
    conf: join(dir, 'outpost.conf'),
    cafile: join(dir, 'ca.crt'),
    certfile: join(dir, 'server.crt'),
    keyfile: join(dir, 'server.key'),
    aclFile: join(dir, 'outpost.acl'),
    crlFile: join(dir, 'outpost.crl'),
  };
}

/**
 * The boxes the ACL lists: for each node id the latest certificate the CA issued, unless it is
 * revoked; and the boxes open claims bound to a node id will certify (so they work as soon as
 * they enrol).
 */
export function aclNodes(hubDataDir: string, revoked: (serial: string) => boolean, now: number): AclIdentity[] {
  return fleetOf(hubDataDir, revoked, now).filter((x) => !x.revoked).map((x) => x.id);
}

/** The boxes whose latest certificate is revoked (no open claim for them): denied everything. */
export function revokedNodeIds(hubDataDir: string, revoked: (serial: string) => boolean, now: number): string[] {
  return fleetOf(hubDataDir, revoked, now).filter((x) => x.revoked).map((x) => x.id.nodeId);
}

function fleetOf(hubDataDir: string, revoked: (serial: string) => boolean, now: number): Array<{ id: AclIdentity; revoked: boolean }> {
  const dir = join(hubDataDir, CA_DIR, 'issued');
  const latest = new Map<string, { at: number; id: AclIdentity; revoked: boolean }>();
  for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => x.endsWith('.pem')) : []) {
    const facts = parseCertificate(readFileSync(join(dir, f), 'utf8'));
    const at = facts.notBefore.getTime();
    if ((latest.get(facts.nodeId)?.at ?? -1) <= at) latest.set(facts.nodeId, { at, id: { nodeId: facts.nodeId, site: facts.site, role: facts.role }, revoked: revoked(facts.serial) });
  }
  // Admins (agent/admin/): their requests and own responses; keyed apart, an admin's name may be a node id.
  const admins = join(dir, ADMIN_DIR);
  for (const f of existsSync(admins) ? readdirSync(admins).filter((x) => x.endsWith('.pem')) : []) {
    const facts = parseAdminCertificate(readFileSync(join(admins, f), 'utf8'));
    const key = `admin:${facts.nodeId}`;
    const at = facts.notBefore.getTime();
    if ((latest.get(key)?.at ?? -1) <= at) latest.set(key, { at, id: { nodeId: facts.nodeId, site: '', role: 'admin' }, revoked: revoked(facts.serial) });
  }
  for (const { claim, marks } of new ClaimBook(hubDataDir).list()) {
    if (claim.nodeId === undefined || claimState(claim, marks, now) !== 'open') continue;
    const known = latest.get(claim.nodeId);
    if (known && !known.revoked) continue;
    latest.set(claim.nodeId, { at: now, id: { nodeId: claim.nodeId, site: claim.site, role: 'node' }, revoked: false });
  }
  return [...latest.values()];
}

/** True when Mosquitto's server certificate in `dir` is missing or in its renewal window. */
export function serverCertificateDue(dir: string, window: number, now: number): boolean {
  const p = mosquittoFilePaths(dir);
  if (!existsSync(p.certfile) || !existsSync(p.keyfile)) return true;
  const facts = parseServerCertificate(readFileSync(p.certfile, 'utf8'));
  const v = issuedValidity(facts.notBefore.getTime(), facts.notAfter.getTime(), BACKDATE_MS);
  return now >= renewalOpens(v, { window, retryMinMs: 0, retryMaxMs: 0 });
}

/** Writes the files (each through a temporary file and a rename); returns the paths and the boxes listed. */
export async function writeMosquittoFiles(o: MosquittoFilesOptions): Promise<{ paths: MosquittoFilePaths; boxes: number; revoked: number }> {
  const p = mosquittoFilePaths(o.dir);
  const put = writeFileAtomically;
  mkdirSync(o.dir, { recursive: true, mode: 0o755 });
  put(p.cafile, o.ca.certificatePem, 0o644);
  if (o.newServerCertificate || serverCertificateDue(o.dir, o.renewWindow ?? 0, o.now)) {
    const key = newTlsKey();
    const cert = await o.ca.issue({
      identity: { nodeId: o.hubId, site: '', role: 'broker', nodeKey: undefined },
      publicKey: spkiOfKey(createPrivateKey(key)),
      days: o.certificateDays,
      ...(o.validityMs !== undefined ? { validityMs: o.validityMs } : {}),
      serverNames: o.serverNames,
    });
    put(p.keyfile, key, 0o600);
    put(p.certfile, cert, 0o644);
  }
  const isRevoked = (serial: string) => o.revoked.some((r) => r.serial === serial.toLowerCase());
  const nodes = aclNodes(o.hubDataDir, isRevoked, o.now);
  put(p.aclFile, mosquittoAcl(o.hubId, nodes, revokedNodeIds(o.hubDataDir, isRevoked, o.now)), 0o644);
  // Valid as long as the CA: an expired CRL would make Mosquitto refuse every box.
  put(p.crlFile, await o.ca.crl(o.revoked, Math.max(86_400_000, o.ca.notAfter.getTime() - o.now)), 0o644);
  put(p.conf, mosquittoListenerConf({ ...o.listen, ...p }), 0o644);
  return { paths: p, boxes: nodes.filter((n) => n.role === 'node').length, revoked: o.revoked.length };
}
