/**
 * The demo's admin (`outpost demo`, docs/cli/admin.md "The demo's admin"): a credential for
 * `demo-admin` issued straight from the demo hub's CA in-process, since the demo hub has no
 * enrolment endpoint, written to `<demo dir>/admin` on the first run and kept afterwards.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HubConfig } from '../config/hub-schema.ts';
import type { Clock } from '../lib/clock.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { spkiOfKey } from '../trust/x509.ts';
import { writeAdminCredential } from './admin-credential.ts';

export const DEMO_ADMIN = 'demo-admin';

/** Makes the demo admin's credential in `dir` unless there is one; returns `dir`. */
export async function ensureDemoAdmin(hub: HubConfig, brokerUrl: string, dir: string, clock: Clock): Promise<string> {
  if (existsSync(join(dir, 'admin.crt'))) return dir;
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hub.dataDir, hubId: hub.id, caDays: hub.ca.days, clock });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await ca.issue({ identity: { nodeId: DEMO_ADMIN, site: '', role: 'admin', nodeKey: undefined }, publicKey: spkiOfKey(publicKey), days: hub.ca.certificateDays });
  writeAdminCredential(dir, { name: DEMO_ADMIN, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert, ca: ca.certificatePem, broker: brokerUrl });
  return dir;
}
