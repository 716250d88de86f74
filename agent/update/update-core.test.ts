import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UpdateCore, type UpdateAction, type UpdateOffer } from './update-core.ts';

const SHA = 'ab'.repeat(32);
const OFFER: UpdateOffer = { version: '2.0', url: 'https://hub.example:8443/updates/2.0.raucb', sha256: SHA };
const kinds = (actions: UpdateAction[]) => actions.map((a) => a.kind);
const fresh = () => new UpdateCore(undefined, { slot: 'A', version: '1.0' }, 0, { quietMs: 10_000 });

const test = suite('update core (box side)');

test('offer -> download -> checksum ok -> install -> reboot at once when there are no calls', () => {
  const core = fresh();
  assert.equal(kinds(core.offer(OFFER, 1)), ['report', 'download']);
  assert.equal(core.state.phase, 'downloading');
  const install = core.downloaded('/data/update/2.0.raucb', SHA, 2);
  assert.equal(install[1], { kind: 'install', file: '/data/update/2.0.raucb' });
  assert.equal(core.installed('B', 3), [
    { kind: 'report', state: { ...core.state, phase: 'installed', since: 3 } },
    { kind: 'discard', file: '/data/update/2.0.raucb' },
    { kind: 'report', state: core.state },
    { kind: 'reboot' },
  ], 'the bundle file goes once the slot holds the image');
  assert.equal(core.state.phase, 'rebooting');
  assert.is(core.state.targetSlot, 'B');
});

test('a checksum mismatch fails the update, installs nothing and deletes the file', () => {
  const core = fresh();
  core.offer(OFFER, 1);
  const actions = core.downloaded('/f', 'cd'.repeat(32), 2);
  assert.equal(actions.slice(1), [{ kind: 'discard', file: '/f' }]);
  assert.equal(kinds(actions), ['report', 'discard']);
  assert.is(core.state.phase, 'failed');
  assert.match(core.state.error ?? '', /checksum mismatch/);
});

test('the reboot waits until calls have been 0 for the quiet time', () => {
  const core = fresh();
  core.offer(OFFER, 0);
  core.downloaded('/f', SHA, 0);
  core.calls(2, 100);
  assert.equal(core.installed('B', 200), [{ kind: 'report', state: core.state }, { kind: 'discard', file: '/f' }]);
  assert.is(core.state.phase, 'installed');
  assert.equal(core.tick(5_000), [], 'calls still up');
  assert.equal(core.calls(0, 6_000), [], 'calls just ended: not quiet long enough');
  assert.equal(kinds(core.tick(15_999)), []);
  assert.equal(kinds(core.tick(16_000)), ['report', 'reboot']);
});

test('a failed install deletes the bundle file too, once', () => {
  const core = fresh();
  core.offer(OFFER, 0);
  core.downloaded('/data/update/bundle.raucb', SHA, 1);
  assert.equal(kinds(core.installFailed('signature verification failed', 2)), ['report', 'discard']);
  assert.is(core.state.phase, 'failed');
  assert.equal(core.installFailed('again', 3), [], 'nothing more to do');
  assert.equal(kinds(core.offer({ ...OFFER, version: '2.1', sha256: 'ef'.repeat(32) }, 4)), ['report', 'download']);
  assert.equal(kinds(core.downloadFailed('ECONNRESET', 5)), ['report'], 'a failed download has no file to discard: the shell removed its .part');
});

test('offers are ignored while busy, and for the version the box runs', () => {
  const core = fresh();
  assert.equal(core.offer({ ...OFFER, version: '1.0' }, 0), []);
  core.offer(OFFER, 0);
  assert.equal(core.offer({ ...OFFER, version: '3.0' }, 1), []);
  assert.is(core.state.version, '2.0');
});

test('an offer without https or a hex sha256 fails at once', () => {
  const core = fresh();
  core.offer({ ...OFFER, url: 'http://hub/x.raucb' }, 0);
  assert.is(core.state.phase, 'failed');
});

test('after the reboot: the new slot with a good health check is committed', () => {
  const core = fresh();
  core.offer(OFFER, 0);
  core.downloaded('/f', SHA, 0);
  core.installed('B', 0);
  const after = new UpdateCore(core.state, { slot: 'B', version: '2.0' }, 100);
  assert.equal(after.booted({ slot: 'B', version: '2.0', health: 'pending' }, 101), [], 'health check still running');
  assert.equal(kinds(after.booted({ slot: 'B', version: '2.0', health: 'good' }, 102)), ['report']);
  assert.is(after.state.phase, 'committed');
  assert.is(after.state.running, '2.0');
});

test('after the reboot: back on the old slot means rolled back, and the same offer is not retried', () => {
  const core = fresh();
  core.offer(OFFER, 0);
  core.downloaded('/f', SHA, 0);
  core.installed('B', 0);
  const after = new UpdateCore(core.state, { slot: 'A', version: '1.0' }, 100);
  after.booted({ slot: 'A', version: '1.0', health: 'good' }, 101);
  assert.is(after.state.phase, 'rolled-back');
  assert.is(after.state.slot, 'A');
  assert.match(after.state.error ?? '', /slot B \(2\.0\) failed its health check/);
  assert.equal(after.offer(OFFER, 102), []);
  assert.equal(kinds(after.offer({ ...OFFER, version: '2.1', sha256: 'ef'.repeat(32) }, 103)), ['report', 'download']);
});

test('a download cut short by a restart is failed, not resumed', () => {
  const core = fresh();
  core.offer(OFFER, 0);
  const restarted = new UpdateCore(core.state, { slot: 'A', version: '1.0' }, 50);
  assert.is(restarted.state.phase, 'failed');
  assert.match(restarted.state.error ?? '', /interrupted while downloading/);
});

test.run();
