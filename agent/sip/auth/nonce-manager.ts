/**
 * Server nonces for SIP digest authentication (RFC 3261 §22.4; RFC 7616 §3.3 and §5 on replay).
 *
 * Issuing costs no memory: a nonce carries its own issue time and a MAC, so any nonce we
 * handed out can be checked later without a table, and a forged or altered one is refused.
 *
 *   nonce = base64url( issued-at (6 bytes, ms since epoch, big-endian)
 *                    | serial    (5 bytes, per-instance counter from a random start)
 *                    | HMAC-SHA-256(key, issued-at | serial), first 16 bytes )   -> 36 chars
 *
 * 27 bytes encode to exactly 36 base64url characters, so each nonce has one spelling.
 *
 * Replay protection needs state, but only for nonces a client has actually used successfully:
 * a bounded LRU map from nonce to the highest nonce-count (nc) accepted with it. A request
 * must carry a larger nc than any accepted before (RFC 7616 §3.4 "nc"). When the map is full,
 * the least recently used entry is dropped; a nonce that may have been dropped while still
 * fresh is answered 'stale' instead of being trusted again (see acceptCount), so eviction can
 * only cost a client one extra challenge, never open a replay.
 */
import * as nodeCrypto from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';
import { AuthError } from './errors.ts';

export type NonceStatus = 'valid' | 'stale' | 'invalid';

/** Outcome of recording a nonce-count: accepted, a repeated/lower count, or a forgotten nonce. */
export type CountStatus = 'ok' | 'replay' | 'stale';

export interface NonceManagerOptions {
  clock: Clock;
  /** How long a nonce stays valid after issue (default 300 000 ms). */
  lifetimeMs?: number;
  /**
   * HMAC key, at least 16 bytes. Default: 32 random bytes per instance, so a restart invalidates
   * every outstanding nonce. Inject a fixed key in tests, or share one between boxes that should
   * accept each other's nonces.
   */
  key?: Uint8Array;
  /**
   * Maximum number of nonces whose nc is remembered (default 100 000, about 13 MB when full:
   * a re-registration stampede of a dead box's phones must fit in one nonce lifetime).
   */
  replayWindow?: number;
}

interface SeenNonce {
  issuedAt: number;
  /** issued-at|serial as fixed-width hex: string order is issue order. */
  order: string;
  highestNc: number;
}

const TIME_BYTES = 6;
const SERIAL_BYTES = 5;
const BODY_BYTES = TIME_BYTES + SERIAL_BYTES;
const MAC_BYTES = 16;
const NONCE_CHARS = ((BODY_BYTES + MAC_BYTES) / 3) * 4;
const NONCE_SHAPE = /^[A-Za-z0-9_-]{36}$/;
const SERIAL_LIMIT = 2 ** (8 * SERIAL_BYTES);
const SHA256_BLOCK = 64;
const SHA256_BYTES = 32;

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
/** crypto.hash() (Node >= 20.12): HMAC from two one-shot hashes is ~1.5x faster than createHmac(). */
const oneShot = (typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined) as OneShotHash | undefined;

export class NonceManager {
  /** Changed live by DigestAuthenticator.reconfigure. */
  lifetimeMs: number;
  readonly replayWindow: number;
  private readonly clock: Clock;
  private readonly key: Uint8Array;
  /** RFC 2104 scratch buffers: (key ^ ipad) | body, and (key ^ opad) | inner hash. */
  private readonly inner = Buffer.alloc(SHA256_BLOCK + BODY_BYTES);
  private readonly outer = Buffer.alloc(SHA256_BLOCK + SHA256_BYTES);
  /** The last nonce authenticate() decoded, so check() then acceptCount() verify the MAC once. */
  private lastDecoded: { nonce: string; entry: SeenNonce } | undefined;
  private serial: number;
  /** LRU: Map iteration order is insertion order, so the first key is the least recent. */
  private readonly seen = new Map<string, SeenNonce>();
  /** Largest `order` among entries evicted while still fresh ('' = none yet). */
  private evictedUpTo = '';

  constructor(options: NonceManagerOptions) {
    this.clock = options.clock;
    this.lifetimeMs = options.lifetimeMs ?? 300_000;
    this.replayWindow = options.replayWindow ?? 100_000;
    this.key = options.key ?? nodeCrypto.randomBytes(32);
    if (!(this.lifetimeMs > 0)) throw new AuthError('sip.auth.invalid-argument', 'lifetimeMs must be > 0');
    if (!Number.isInteger(this.replayWindow) || this.replayWindow < 1) {
      throw new AuthError('sip.auth.invalid-argument', 'replayWindow must be a positive integer');
    }
    if (this.key.length < 16) throw new AuthError('sip.auth.invalid-argument', 'nonce key must be >= 16 bytes');
    this.serial = nodeCrypto.randomBytes(SERIAL_BYTES).readUIntBE(0, SERIAL_BYTES);
    const block = this.key.length > SHA256_BLOCK ? nodeCrypto.createHash('sha256').update(this.key).digest() : this.key;
    for (let i = 0; i < SHA256_BLOCK; i++) {
      this.inner[i] = (block[i] ?? 0) ^ 0x36;
      this.outer[i] = (block[i] ?? 0) ^ 0x5c;
    }
  }

  /** A fresh nonce bound to the current time. */
  issue(): string {
    const buf = Buffer.allocUnsafe(BODY_BYTES + MAC_BYTES);
    buf.writeUIntBE(Math.max(0, Math.floor(this.clock.now())), 0, TIME_BYTES);
    this.serial = (this.serial + 1) % SERIAL_LIMIT;
    buf.writeUIntBE(this.serial, TIME_BYTES, SERIAL_BYTES);
    this.mac(buf.subarray(0, BODY_BYTES)).copy(buf, BODY_BYTES, 0, MAC_BYTES);
    return buf.toString('base64url');
  }

  /**
   * 'valid': issued by this key within the lifetime. 'stale': issued by this key but too old
   * (the client should be challenged again with stale=true). 'invalid': not ours.
   */
  check(nonce: string): NonceStatus {
    const issuedAt = (this.seen.get(nonce) ?? this.authenticate(nonce))?.issuedAt;
    if (issuedAt === undefined) return 'invalid';
    // A nonce "from the future" is still ours (the wall clock was stepped back); bound it too.
    return Math.abs(this.clock.now() - issuedAt) <= this.lifetimeMs ? 'valid' : 'stale';
  }

  /**
   * Records that a request with `nc` under `nonce` was authenticated. Call it only after the
   * digest has been verified, so forged requests cannot burn a client's counts, and only for
   * nonces check() found valid. Returns 'replay' when `nc` is not larger than the highest count
   * accepted before, 'stale' when the nonce may have been evicted from the window while fresh.
   */
  acceptCount(nonce: string, nc: number): CountStatus {
    const known = this.seen.get(nonce);
    if (known) {
      if (nc <= known.highestNc) return 'replay';
      known.highestNc = nc;
      this.seen.delete(nonce);
      this.seen.set(nonce, known);
      return 'ok';
    }
    const fresh = this.authenticate(nonce);
    if (fresh === undefined) return 'replay';
    // Issued no later than something we already forgot: it may have been forgotten too.
    if (fresh.order <= this.evictedUpTo) return 'stale';
    fresh.highestNc = nc;
    this.seen.set(nonce, fresh);
    if (this.seen.size > this.replayWindow) this.evictOldest();
    return 'ok';
  }

  /** Number of nonces currently tracked for replay protection. */
  get trackedCount(): number {
    return this.seen.size;
  }

  private evictOldest(): void {
    const first = this.seen.entries().next();
    if (first.done) return;
    const [nonce, entry] = first.value;
    this.seen.delete(nonce);
    const fresh = Math.abs(this.clock.now() - entry.issuedAt) <= this.lifetimeMs;
    if (fresh && entry.order > this.evictedUpTo) this.evictedUpTo = entry.order;
  }

  /** Decodes a nonce whose MAC verifies under our key, else undefined. */
  private authenticate(nonce: string): SeenNonce | undefined {
    const last = this.lastDecoded;
    if (last !== undefined && last.nonce === nonce) return { ...last.entry };
    if (nonce.length !== NONCE_CHARS || !NONCE_SHAPE.test(nonce)) return undefined;
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== BODY_BYTES + MAC_BYTES) return undefined;
    const expected = this.mac(buf.subarray(0, BODY_BYTES)).subarray(0, MAC_BYTES);
    if (!nodeCrypto.timingSafeEqual(expected, buf.subarray(BODY_BYTES))) return undefined;
    const entry = { issuedAt: buf.readUIntBE(0, TIME_BYTES), order: buf.toString('hex', 0, BODY_BYTES), highestNc: 0 };
    this.lastDecoded = { nonce, entry };
    return { ...entry };
  }

  /** HMAC-SHA-256(key, body) per RFC 2104; `body` is always BODY_BYTES long. */
  private mac(body: Uint8Array): Buffer {
    if (!oneShot) return nodeCrypto.createHmac('sha256', this.key).update(body).digest();
    this.inner.set(body, SHA256_BLOCK);
    this.outer.set(oneShot('sha256', this.inner, 'buffer'), SHA256_BLOCK);
    return oneShot('sha256', this.outer, 'buffer');
  }
}
