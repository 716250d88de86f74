/**
 * The one import of @peculiar/x509 (certificates and PKCS#10 requests, no hand-written ASN.1),
 * over Node's WebCrypto. The library needs a Reflect metadata polyfill (its tsyringe container);
 * reflect-metadata is imported here, before it, so no other module has to know.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';

export { x509 };

/** ECDSA P-256 with SHA-256: the algorithm of the CA and of every node certificate. */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A Node KeyObject pair as WebCrypto keys (what @peculiar/x509 signs with). */
export async function webKeysOf(privateKeyPem: string): Promise<CryptoKeyPair> {
  const priv = createPrivateKey(privateKeyPem);
  const pub = createPublicKey(priv);
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', priv.export({ type: 'pkcs8', format: 'der' }), EC_ALGORITHM, false, ['sign']);
  const publicKey = await subtle.importKey('spki', pub.export({ type: 'spki', format: 'der' }), EC_ALGORITHM, true, ['verify']);
  return { privateKey, publicKey } as CryptoKeyPair;
}

/** The SPKI DER of a Node key. */
export function spkiOfKey(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}
