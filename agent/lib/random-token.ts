/**
 * Cryptographically random tokens for SIP tags and branches (RFC 3261 §19.3 asks for at least
 * 32 random bits), drawn from a pooled buffer: one randomFillSync per 4 KiB instead of one per
 * token, which mattered on the REGISTER path (a To tag per response).
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): Buffer {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + bytes);
  offset += bytes;
  return out;
}

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  return take(bytes).toString('hex');
}

/** `bytes` random bytes as base64url (branch values). */
export function randomBase64url(bytes: number): string {
  return take(bytes).toString('base64url');
}
