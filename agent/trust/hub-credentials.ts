/**
 * The hub's own certificate (role hub), issued by its CA at the first start into the hub's data
 * directory, with the same files as a box (credentials.ts). Its DNS and IP names
 * (`ca.serverNames`) are what boxes will check when they connect over TLS.
 */
import { createPrivateKey } from 'node:crypto';
import type { CertificateAuthority } from './ca.ts';
import { hasCredentials, newTlsKey, readCredentials, writeCredentials, type Credentials } from './credentials.ts';
import { spkiOfKey } from './x509.ts';

export interface HubCredentialOptions {
  dataDir: string;
  hubId: string;
  /** The hub's ed25519 node key (SPKI DER base64), bound into its certificate. */
  nodeKey: string;
  serverNames: readonly string[];
  days: number;
  /** `ca.certificateValidity` in ms: wins over `days`. */
  validityMs?: number | undefined;
}

/** The hub's credentials, issued now if its data directory has none. */
export async function ensureHubCredentials(ca: CertificateAuthority, o: HubCredentialOptions): Promise<Credentials> {
  if (hasCredentials(o.dataDir)) return readCredentials(o.dataDir);
  const key = newTlsKey();
  const cert = await ca.issue({
    identity: { nodeId: o.hubId, site: '', role: 'hub', nodeKey: o.nodeKey },
    publicKey: spkiOfKey(createPrivateKey(key)),
    days: o.days,
    ...(o.validityMs !== undefined ? { validityMs: o.validityMs } : {}),
    serverNames: o.serverNames,
  });
  const credentials = { key, cert, ca: ca.certificatePem };
  writeCredentials(o.dataDir, credentials);
  return credentials;
}
