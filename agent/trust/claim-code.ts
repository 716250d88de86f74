/**
 * Claim codes: 12 Crockford base32 characters in three groups of four (`7KQ2-M9XD-4HRT`), 60
 * random bits. The first group is the claim's id, sent in the clear and shown by
 * `outpost enrol list`; the other eight characters (40 bits) are the secret, which never leaves
 * the box or the hub's terminal. Reading is case-insensitive and tolerant of dashes and spaces,
 * and takes Crockford's look-alikes (I and L for 1, O for 0). Pure functions.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { TrustError } from './errors.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LOOK_ALIKES: Record<string, string> = { I: '1', L: '1', O: '0' };
export const CLAIM_CODE_LENGTH = 12;
const ID_LENGTH = 4;

export interface ClaimCode {
  /** The first group: the claim's id (public). */
  id: string;
  /** All 12 characters, normalised (upper case, no dashes): the secret the key is derived from. */
  normalised: string;
}

/** A fresh random code. */
export function newClaimCode(random: (bytes: number) => Buffer = randomBytes): ClaimCode {
  const bytes = random(CLAIM_CODE_LENGTH);
  let text = '';
  for (const b of bytes) text += ALPHABET[b & 31];
  return { id: text.slice(0, ID_LENGTH), normalised: text };
}

/** `7KQ2-M9XD-4HRT`: how a code is printed. */
export function formatClaimCode(code: ClaimCode): string {
  return code.normalised.match(/.{4}/g)!.join('-');
}

/** Reads a code as typed; throws TrustError('trust.claim-format') with a one-line reason. */
export function parseClaimCode(typed: string): ClaimCode {
  const compact = typed.replace(/[\s-]+/g, '').toUpperCase();
  let normalised = '';
  for (const ch of compact) {
    const c = LOOK_ALIKES[ch] ?? ch;
    if (!ALPHABET.includes(c)) throw new TrustError('trust.claim-format', `invalid claim code: "${ch}" is not one of its letters or digits (0-9, A-Z without I, L, O, U)`);
    normalised += c;
  }
  if (normalised.length !== CLAIM_CODE_LENGTH) {
    throw new TrustError('trust.claim-format', `invalid claim code: it has ${normalised.length} letters and digits, a code has ${CLAIM_CODE_LENGTH} (e.g. 7KQ2-M9XD-4HRT)`);
  }
  return { id: normalised.slice(0, ID_LENGTH), normalised };
}

/** A claim id as typed (`enrol revoke 7kq2`), normalised; throws on anything else. */
export function parseClaimId(typed: string): string {
  const id = typed.trim().toUpperCase().replace(/[ILO]/g, (c) => LOOK_ALIKES[c]!);
  if (id.length !== ID_LENGTH || [...id].some((c) => !ALPHABET.includes(c))) {
    throw new TrustError('trust.claim-format', `invalid claim id "${typed}": it is the first group of the code, ${ID_LENGTH} letters or digits`);
  }
  return id;
}

/**
 * The key both sides MAC the enrolment with: scrypt of the whole code (N=2^15, r=8: about 32 MiB
 * and tens of milliseconds per guess), so that one captured request does not let an attacker
 * try the 2^40 secrets offline within a claim's lifetime. The hub stores this key, never the code.
 */
export function claimKey(code: ClaimCode): Buffer {
  return scryptSync(code.normalised, `outpost-enrol-v1:${code.id}`, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}
