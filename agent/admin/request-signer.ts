/**
 * The admin's side of a request's signature (docs/mqtt/admin.md "Signature"): ECDSA P-256 with
 * SHA-256 over canonicalRequest(), with the key of the admin's credential. Pure but for the
 * random transaction id.
 */
import { randomUUID, sign } from 'node:crypto';
import { canonicalRequest, type AdminRequest } from '../wire/admin.ts';

export interface SigningIdentity {
  /** The admin's name (its certificate's CN). */
  name: string;
  /** PKCS#8 PEM of the admin's P-256 key. */
  key: string;
  /** The admin's certificate, PEM. */
  cert: string;
}

export function signRequest(id: SigningIdentity, op: string, body: unknown, ts: number, transaction: string = randomUUID()): AdminRequest {
  const unsigned = { transaction, admin: id.name, ts, body };
  const sig = sign('sha256', canonicalRequest(op, unsigned), id.key).toString('base64');
  return { v: 1, ...unsigned, cert: id.cert, sig };
}
