import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { isAuthError } from './errors.ts';
import { NonceManager, type NonceManagerOptions } from './nonce-manager.ts';

const KEY = Buffer.alloc(32, 7);

function setup(options: Partial<NonceManagerOptions> = {}) {
  const clock = new ManualClock();
  return { clock, nonces: new NonceManager({ clock, key: KEY, ...options }) };
}

/** Flips one base64url character (keeping it valid base64url) at `index`. */
function tamper(nonce: string, index: number): string {
  const c = nonce[index] === 'A' ? 'B' : 'A';
  return nonce.slice(0, index) + c + nonce.slice(index + 1);
}

const issue = suite('NonceManager.issue');

issue('36 base64url characters, different every time, even within one millisecond', () => {
  const { nonces } = setup();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const n = nonces.issue();
    assert.match(n, /^[A-Za-z0-9_-]{36}$/);
    seen.add(n);
  }
  assert.is(seen.size, 1000);
});

issue('the MAC is HMAC-SHA-256 over issued-at|serial, truncated to 16 bytes (short and long keys)', () => {
  for (const key of [KEY, Buffer.alloc(100, 3)]) {
    const clock = new ManualClock(1_700_000_123_456);
    const bytes = Buffer.from(new NonceManager({ clock, key }).issue(), 'base64url');
    assert.is(bytes.length, 27);
    assert.is(bytes.readUIntBE(0, 6), 1_700_000_123_456);
    const expected = createHmac('sha256', key).update(bytes.subarray(0, 11)).digest().subarray(0, 16);
    assert.ok(bytes.subarray(11).equals(expected));
  }
});

issue.run();

const check = suite('NonceManager.check');

check('valid until the lifetime, stale after it (default 300 s)', () => {
  const { clock, nonces } = setup();
  const n = nonces.issue();
  assert.is(nonces.check(n), 'valid');
  clock.advance(300_000);
  assert.is(nonces.check(n), 'valid');
  clock.advance(1);
  assert.is(nonces.check(n), 'stale');
});

check('configurable lifetime', () => {
  const { clock, nonces } = setup({ lifetimeMs: 1000 });
  const n = nonces.issue();
  clock.advance(1001);
  assert.is(nonces.check(n), 'stale');
});

check('forged, altered or foreign nonces are invalid', () => {
  const { nonces, clock } = setup();
  const n = nonces.issue();
  for (let i = 0; i < n.length; i++) assert.is(nonces.check(tamper(n, i)), 'invalid', `tampered at ${i}`);
  assert.is(nonces.check('A'.repeat(36)), 'invalid');
  assert.is(nonces.check(''), 'invalid');
  assert.is(nonces.check(n + 'A'), 'invalid');
  assert.is(nonces.check(n.slice(1)), 'invalid');
  assert.is(nonces.check(`${n.slice(0, 35)}=`), 'invalid');
  assert.is(nonces.check('dcd98b7102dd2f0e8b11d0f600bfb0c093'), 'invalid');
  const other = new NonceManager({ clock, key: Buffer.alloc(32, 8) });
  assert.is(other.check(n), 'invalid');
  assert.is(new NonceManager({ clock }).check(n), 'invalid'); // fresh random key, e.g. after restart
});

check('a shared key lets another instance accept the nonce', () => {
  const { clock, nonces } = setup();
  const n = nonces.issue();
  assert.is(new NonceManager({ clock, key: KEY }).check(n), 'valid');
});

check('a nonce from the future (clock stepped back) is bounded by the lifetime too', () => {
  const { clock, nonces } = setup({ lifetimeMs: 1000 });
  const n = nonces.issue();
  const earlier = new NonceManager({ clock: new ManualClock(clock.now() - 500), key: KEY, lifetimeMs: 1000 });
  assert.is(earlier.check(n), 'valid');
  const muchEarlier = new NonceManager({ clock: new ManualClock(clock.now() - 5000), key: KEY, lifetimeMs: 1000 });
  assert.is(muchEarlier.check(n), 'stale');
});

check.run();

const count = suite('NonceManager.acceptCount');

count('accepts increasing counts, rejects a repeated or lower count', () => {
  const { nonces } = setup();
  const n = nonces.issue();
  assert.is(nonces.acceptCount(n, 1), 'ok');
  assert.is(nonces.acceptCount(n, 1), 'replay');
  assert.is(nonces.acceptCount(n, 3), 'ok');
  assert.is(nonces.acceptCount(n, 2), 'replay');
  assert.is(nonces.acceptCount(n, 4), 'ok');
});

count('counts are per nonce', () => {
  const { nonces } = setup();
  const a = nonces.issue();
  const b = nonces.issue();
  assert.is(nonces.acceptCount(a, 5), 'ok');
  assert.is(nonces.acceptCount(b, 1), 'ok');
  assert.is(nonces.trackedCount, 2);
});

count('a forged nonce is never tracked', () => {
  const { nonces } = setup();
  assert.is(nonces.acceptCount('A'.repeat(36), 1), 'replay');
  assert.is(nonces.trackedCount, 0);
});

count('the window is an LRU: recently used nonces survive eviction', () => {
  const { nonces } = setup({ replayWindow: 2 });
  const [a, b, c] = [nonces.issue(), nonces.issue(), nonces.issue()];
  assert.is(nonces.acceptCount(a, 1), 'ok');
  assert.is(nonces.acceptCount(b, 1), 'ok');
  assert.is(nonces.acceptCount(a, 2), 'ok'); // a becomes most recent
  assert.is(nonces.acceptCount(c, 1), 'ok'); // evicts b
  assert.is(nonces.trackedCount, 2);
  assert.is(nonces.acceptCount(a, 2), 'replay'); // a still remembered
});

count('a nonce that may have been evicted while fresh is stale, never trusted again', () => {
  const { nonces } = setup({ replayWindow: 1 });
  const a = nonces.issue();
  const b = nonces.issue();
  const c = nonces.issue();
  assert.is(nonces.acceptCount(b, 1), 'ok');
  assert.is(nonces.acceptCount(c, 1), 'ok'); // evicts b while fresh
  assert.is(nonces.acceptCount(b, 1), 'stale'); // replay of b's first request is not accepted
  assert.is(nonces.acceptCount(a, 1), 'stale'); // issued before b: cannot tell, so stale
  const d = nonces.issue();
  assert.is(nonces.acceptCount(d, 1), 'ok'); // issued after: fine
});

count('evicting an expired entry costs nobody a challenge', () => {
  const { clock, nonces } = setup({ replayWindow: 1, lifetimeMs: 1000 });
  const old = nonces.issue();
  assert.is(nonces.acceptCount(old, 1), 'ok');
  clock.advance(2000);
  const a = nonces.issue();
  const b = nonces.issue();
  assert.is(nonces.acceptCount(b, 1), 'ok'); // evicts the expired `old`
  assert.is(nonces.acceptCount(a, 1), 'ok');
});

count.run();

const options = suite('NonceManager options');

options('bad options throw a typed error', () => {
  const clock = new ManualClock();
  const invalid = (e: unknown) => isAuthError(e, 'sip.auth.invalid-argument');
  assert.throws(() => new NonceManager({ clock, lifetimeMs: 0 }), invalid);
  assert.throws(() => new NonceManager({ clock, replayWindow: 0 }), invalid);
  assert.throws(() => new NonceManager({ clock, replayWindow: 1.5 }), invalid);
  assert.throws(() => new NonceManager({ clock, key: Buffer.alloc(8) }), invalid);
});

options('the default replay window holds a stampede: 20 000 nonces used in a row are all ok, none stale', () => {
  const clock = new ManualClock();
  const nonces = new NonceManager({ clock });
  assert.is(nonces.replayWindow, 100_000);
  const issued = Array.from({ length: 20_000 }, () => nonces.issue());
  assert.ok(issued.every((n) => nonces.acceptCount(n, 1) === 'ok'));
  assert.is(nonces.acceptCount(issued[0]!, 2), 'ok', 'the first one is still remembered');
});

options.run();
