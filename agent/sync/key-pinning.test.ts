/** The pinning decision (key-pinning.ts): trust on first use, refusal, a replacement taken once. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decidePin, keyFingerprint } from './key-pinning.ts';

const OLD = 'MCowBQYDK2VwAyEAb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2w=';
const NEW = 'MCowBQYDK2VwAyEAbmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmU=';
const THIRD = 'MCowBQYDK2VwAyEAdGhpcmR0aGlyZHRoaXJkdGhpcmR0aGlyZHRoaXJkdGg=';

const pin = suite('decidePin');

pin('the first key seen for an id is pinned', () => {
  assert.is(decidePin(undefined, OLD, undefined), 'first');
});

pin('the pinned key is known', () => {
  assert.is(decidePin(OLD, OLD, undefined), 'same');
  assert.is(decidePin(OLD, OLD, { oldPublicKey: OLD }), 'same', 'a replacement recorded before the box was swapped changes nothing yet');
});

pin('a new key for a known id without a replacement is refused', () => {
  assert.is(decidePin(OLD, NEW, undefined), 'refuse');
});

pin('a new key after a replacement of the pinned key is pinned', () => {
  assert.is(decidePin(OLD, NEW, { oldPublicKey: OLD }), 'replace');
});

pin('once the new key is pinned, the replacement is spent: a third key is refused', () => {
  assert.is(decidePin(NEW, THIRD, { oldPublicKey: OLD }), 'refuse');
});

pin('a replay of the old key after the replacement is refused', () => {
  assert.is(decidePin(NEW, OLD, { oldPublicKey: OLD }), 'refuse');
  assert.is(decidePin(undefined, OLD, { oldPublicKey: OLD }), 'refuse', 'also by a replica that never pinned the node');
});

pin('a replacement of another key than the pinned one does not apply', () => {
  assert.is(decidePin(THIRD, NEW, { oldPublicKey: OLD }), 'refuse');
});

const fingerprint = suite('keyFingerprint');

fingerprint('sha256 and 16 hex digits, different for different keys', () => {
  assert.match(keyFingerprint(OLD), /^sha256:[0-9a-f]{16}$/);
  assert.is.not(keyFingerprint(OLD), keyFingerprint(NEW));
  assert.is(keyFingerprint(OLD), keyFingerprint(OLD));
});

pin.run();
fingerprint.run();
