/**
 * Certificates for tests of SIP over TLS, from the project's CA (agent/trust/ca.ts): a fleet
 * whose CA issues node certificates, the same as enrolment gives a box.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSystemClock } from '../../lib/clock.ts';
import { CertificateAuthority } from '../../trust/ca.ts';
import type { Credentials } from '../../trust/credentials.ts';
import { newTlsKey } from '../../trust/credentials.ts';
import { spkiOfKey } from '../../trust/x509.ts';

export interface TestFleet {
  ca: string;
  /** `{key, cert, ca}` for a box of `site` (default `branch-a`). */
  credentialsFor(nodeId: string, site?: string): Promise<Credentials>;
  dispose(): void;
}

export async function testFleet(hubId = 'hub'): Promise<TestFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-tls-ca-'));
  const authority = await CertificateAuthority.loadOrCreate({ dataDir: dir, hubId, caDays: 30, clock: createSystemClock() });
  return {
    ca: authority.certificatePem,
    async credentialsFor(nodeId, site = 'branch-a') {
      const key = newTlsKey();
      const nodeKey = spkiOfKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
      const cert = await authority.issue({ identity: { nodeId, site, role: 'node', nodeKey }, publicKey: spkiOfKey(createPrivateKey(key)), days: 30 });
      return { key, cert, ca: authority.certificatePem };
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
