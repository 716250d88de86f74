/**
 * RequestVerifier with a real CA, real admin certificates and a ManualClock: signature, the
 * certificate's role and issuer, revocation, staleness and replay (docs/mqtt/admin.md).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import type { RevokedEntry } from '../trust/revocation.ts';
import { signRequest } from './request-signer.ts';
import { RequestVerifier } from './request-verifier.ts';
import { certified, testCa } from './test-support.ts';

const WINDOW = 60_000;

async function world() {
  const clock = new ManualClock(Date.now());
  const { ca } = await testCa(clock);
  const revoked = new Map<string, RevokedEntry>();
  const verifier = new RequestVerifier({ caPem: ca.certificatePem, revoked: (s) => revoked.get(s), clock, windowMs: WINDOW });
  const ann = await certified(ca, 'ann');
  return { clock, ca, revoked, verifier, ann };
}

const reason = (v: ReturnType<RequestVerifier['verify']>) => (v.ok ? 'accepted' : v.reason);

const verify = suite('RequestVerifier.verify');

verify('a request signed by a certified admin is accepted once', async () => {
  const w = await world();
  const r = signRequest(w.ann, 'user.add', { ext: '1001', password: 'secret1' }, w.clock.now(), 'tx-00000001');
  const v = w.verifier.verify('user.add', r);
  assert.ok(v.ok, reason(v));
  assert.match(reason(w.verifier.verify('user.add', r)), /^replayed request: transaction tx-00000001/);
});

verify('a signature over another op, another body or by another key does not verify', async () => {
  const w = await world();
  const r = signRequest(w.ann, 'user.add', { ext: '1001', password: 'secret1' }, w.clock.now());
  assert.match(reason(w.verifier.verify('user.remove', r)), /signature does not verify/, 'aimed at another op');
  assert.match(reason(w.verifier.verify('user.add', { ...r, body: { ext: '1002', password: 'secret1' } })), /signature does not verify/, 'body altered');
  const bob = await certified(w.ca, 'bob');
  const forged = signRequest({ ...bob, cert: w.ann.cert, name: 'ann' }, 'user.add', {}, w.clock.now());
  assert.match(reason(w.verifier.verify('user.add', forged)), /signature does not verify/, 'ann\'s certificate, bob\'s key');
  assert.match(reason(w.verifier.verify('user.add', { ...r, sig: undefined })), /^malformed request: sig/, 'unsigned');
  // A forged copy does not burn the transaction id: the genuine request still goes through.
  assert.ok(w.verifier.verify('user.add', r).ok);
});

verify('a certificate of another CA, of a box, or naming another admin is refused', async () => {
  const w = await world();
  const other = await testCa(w.clock);
  const mallory = await certified(other.ca, 'ann');
  assert.match(reason(w.verifier.verify('user.list', signRequest(mallory, 'user.list', {}, w.clock.now()))), /not issued by this hub's CA/);
  const box = await certified(w.ca, 'a1', 'node');
  assert.match(reason(w.verifier.verify('user.list', signRequest(box, 'user.list', {}, w.clock.now()))), /not an admin's/);
  const bob = await certified(w.ca, 'bob');
  assert.match(reason(w.verifier.verify('user.list', signRequest({ ...bob, name: 'ann' }, 'user.list', {}, w.clock.now()))), /certificate is admin bob's, the request names ann/);
});

verify('stale: a timestamp more than the window away either way is refused; at the edge it passes', async () => {
  const w = await world();
  const now = w.clock.now();
  assert.match(reason(w.verifier.verify('user.list', signRequest(w.ann, 'user.list', {}, now - WINDOW - 1))), /^stale request/);
  assert.match(reason(w.verifier.verify('user.list', signRequest(w.ann, 'user.list', {}, now + WINDOW + 1))), /^stale request/);
  assert.ok(w.verifier.verify('user.list', signRequest(w.ann, 'user.list', {}, now - WINDOW)).ok);
});

verify('a replay after the window is refused as stale, and the id is then forgotten', async () => {
  const w = await world();
  const r = signRequest(w.ann, 'user.list', {}, w.clock.now(), 'tx-00000009');
  assert.ok(w.verifier.verify('user.list', r).ok);
  assert.is(w.verifier.remembered, 1);
  w.clock.advance(WINDOW + 1);
  assert.match(reason(w.verifier.verify('user.list', r)), /^stale request/);
  assert.ok(w.verifier.verify('user.list', signRequest(w.ann, 'user.list', {}, w.clock.now())).ok);
  assert.is(w.verifier.remembered, 1, 'the old id was forgotten');
});

verify('a revoked admin is refused; the same transaction ids are per admin', async () => {
  const w = await world();
  const bob = await certified(w.ca, 'bob');
  assert.ok(w.verifier.verify('user.list', signRequest(bob, 'user.list', {}, w.clock.now(), 'tx-shared-1')).ok);
  assert.ok(w.verifier.verify('user.list', signRequest(w.ann, 'user.list', {}, w.clock.now(), 'tx-shared-1')).ok, 'another admin may use the same id');
  w.revoked.set(bob.serial, { nodeId: 'bob', revokedAt: w.clock.now() });
  assert.match(reason(w.verifier.verify('user.list', signRequest(bob, 'user.list', {}, w.clock.now()))), /^revoked: certificate [0-9a-f]+ of bob/);
});

verify('an expired certificate is refused', async () => {
  const w = await world();
  const old = await certified(w.ca, 'old', 'admin', 1);
  w.clock.advance(2 * 86_400_000);
  assert.match(reason(w.verifier.verify('user.list', signRequest(old, 'user.list', {}, w.clock.now()))), /is not valid now/);
});

verify.run();
