/**
 * The node's ed25519 key: generated at first start and kept as `<dataDir>/node.key` (PKCS#8
 * PEM, mode 0600). Every batch a node publishes is signed with it; receivers verify with the
 * public key (SPKI DER, base64) announced in the node's state and pinned at first sight.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyncError } from './errors.ts';

export const NODE_KEY_FILE = 'node.key';

export class NodeKey {
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  }

  /** Loads `<dataDir>/node.key`, creating it on first start. */
  static loadOrCreate(dataDir: string): NodeKey {
    const path = join(dataDir, NODE_KEY_FILE);
    if (!existsSync(path)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      return new NodeKey(privateKey);
    }
    return NodeKey.load(path);
  }

  /** Loads an ed25519 private key file (`what` names it in errors: node key, site admin key). */
  static load(path: string, what = 'node key'): NodeKey {
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(path));
    } catch (err) {
      throw new SyncError('sync.key', `cannot read the ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new SyncError('sync.key', `the ${what} ${path} is not an ed25519 private key`);
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return new NodeKey(key);
  }

  sign(bytes: Uint8Array): Buffer {
    return sign(null, bytes, this.privateKey);
  }
}

const publicKeys = new Map<string, KeyObject>();

/** Verifies an ed25519 signature with a base64 SPKI public key; false for any malformed input. */
export function verifySignature(publicKeyB64: string, bytes: Uint8Array, signature: Uint8Array): boolean {
  try {
    let key = publicKeys.get(publicKeyB64);
    if (!key) {
      key = createPublicKey({ key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' });
      publicKeys.set(publicKeyB64, key);
    }
    return verify(null, bytes, key, signature);
  } catch {
    return false;
  }
}
