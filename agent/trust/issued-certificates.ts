/**
 * The certificates the hub's CA issued, as it recorded them in `<hub dataDir>/ca/issued/`
 * (`<node id>.<serial>.pem`, ca.ts): what `outpost node revoke|replace` revoke. Read-only; the
 * CA key is not read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_DIR, CA_DIR } from './ca.ts';
import { TrustError } from './errors.ts';
import { parseAdminCertificate, parseCertificate, type CertificateFacts } from './identity.ts';

/** Every certificate issued for `nodeId`, oldest first (by notBefore); [] when none (or no CA). */
export function issuedCertificates(hubDataDir: string, nodeId: string): CertificateFacts[] {
  const dir = join(hubDataDir, CA_DIR, 'issued');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(`${nodeId}.`) && f.endsWith('.pem'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrustError('trust.files', `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return files
    .map((f) => parseCertificate(readFileSync(join(dir, f), 'utf8')))
    .filter((c) => c.nodeId === nodeId)
    .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime());
}

/** Every certificate issued for the admin `name` (`ca/issued/admin/`), oldest first; [] when none. */
export function issuedAdminCertificates(hubDataDir: string, name: string): Array<Omit<CertificateFacts, 'role'>> {
  const dir = join(hubDataDir, CA_DIR, 'issued', ADMIN_DIR);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.pem'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrustError('trust.files', `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return files.map((f) => parseAdminCertificate(readFileSync(join(dir, f), 'utf8'))).filter((c) => c.nodeId === name);
}
