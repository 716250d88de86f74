/**
 * For the admin API's unit tests: a real CA in a temporary folder and admins certified by it,
 * with keys to sign requests. Nothing is kept at import time.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { spkiOfKey } from '../trust/x509.ts';
import type { SigningIdentity } from './request-signer.ts';

export async function testCa(clock: Clock, dir = mkdtempSync(join(tmpdir(), 'outpost-admin-ca-'))): Promise<{ ca: CertificateAuthority; dir: string }> {
  return { ca: await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId: 'hub', caDays: 365, clock }), dir };
}

/** A key and a certificate of `role` (admin by default) named `name`. */
export async function certified(ca: CertificateAuthority, name: string, role: 'admin' | 'node' = 'admin', days = 30): Promise<SigningIdentity & { serial: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await ca.issue({ identity: { nodeId: name, site: role === 'node' ? 'a' : '', role, nodeKey: undefined }, publicKey: spkiOfKey(publicKey), days });
  const serial = new X509Certificate(cert).serialNumber.toLowerCase();
  return { name, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert, serial };
}
