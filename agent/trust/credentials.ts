/**
 * A node's TLS credentials in its data directory, the same on a box and on the hub:
 * `node-tls.key` (its ECDSA P-256 key, PKCS#8 PEM, mode 0600), `node.crt` (its certificate from
 * the hub's CA) and `ca.crt` (the CA it trusts). `node.key` beside them is the ed25519
 * replication key (agent/sync/node-key.ts), which the certificate binds. tlsOptions() is what the
 * brokers' mTLS and SIP over TLS will take.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrustError } from './errors.ts';

export const NODE_TLS_KEY_FILE = 'node-tls.key';
export const NODE_CERT_FILE = 'node.crt';
export const TRUSTED_CA_FILE = 'ca.crt';

export interface Credentials {
  /** PEM texts. */
  key: string;
  cert: string;
  ca: string;
}

export function credentialPaths(dataDir: string): { key: string; cert: string; ca: string } {
  return { key: join(dataDir, NODE_TLS_KEY_FILE), cert: join(dataDir, NODE_CERT_FILE), ca: join(dataDir, TRUSTED_CA_FILE) };
}

export function hasCredentials(dataDir: string): boolean {
  return existsSync(credentialPaths(dataDir).cert);
}

/** A new P-256 key (PKCS#8 PEM). */
export function newTlsKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Writes the three files; the certificate last, so a data dir with `node.crt` has all three
 * (hasCredentials). Each goes through a temporary file and a rename.
 */
export function writeCredentials(dataDir: string, c: Credentials): void {
  const p = credentialPaths(dataDir);
  const put = writeFileAtomically;
  put(p.key, c.key, 0o600);
  put(p.ca, c.ca, 0o644);
  put(p.cert, c.cert, 0o644);
}

/** The credentials of a data directory; throws TrustError('trust.files') naming the missing file. */
export function readCredentials(dataDir: string): Credentials {
  const p = credentialPaths(dataDir);
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (enrol the box: outpost enrol join)' : (err as Error).message;
      throw new TrustError('trust.files', `cannot read ${path}: ${why}`, { cause: err });
    }
  };
  const c = { key: read(p.key), cert: read(p.cert), ca: read(p.ca) };
  if ((statSync(p.key).mode & 0o077) !== 0) chmodSync(p.key, 0o600);
  return c;
}

/** `{key, cert, ca}` for tls.createSecureContext / tls.connect / mqtt's TLS options. */
export function tlsOptions(dataDir: string): Credentials {
  return readCredentials(dataDir);
}

/** Writes `text` (ending in a newline) with `mode` through a temporary file and a rename; TrustError('trust.files') when it cannot. */
export function writeFileAtomically(path: string, text: string, mode: number): void {
  try {
    writeFileSync(`${path}.tmp`, text.endsWith('\n') ? text : `${text}\n`, { mode });
    chmodSync(`${path}.tmp`, mode);
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    throw new TrustError('trust.files', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}
