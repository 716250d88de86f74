import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeHealth, parseRaucStatus, slotAction, type HealthObservation } from './health-core.ts';

const healthy: HealthObservation = { agentActive: true, agentRestarts: 0, sipAnswers: true, storeOpens: true, uplink: 'not-configured' };
const policy = { deadlineMs: 300_000, maxRestarts: 3 };
const test = suite('health check');

test('all checks pass: pass, and the slot is marked good', () => {
  const v = judgeHealth(healthy, 0, 1000, policy);
  assert.equal(v, { kind: 'pass' });
  assert.equal(slotAction(v, { booted: 'B', other: 'A', otherGood: true }), { kind: 'mark-good' });
});

test('a configured hub or peer must be reachable; none configured is skipped', () => {
  assert.equal(judgeHealth({ ...healthy, uplink: 'unreachable' }, 0, 1000, policy), { kind: 'wait', missing: ['neither hub nor peers reachable'] });
  assert.equal(judgeHealth({ ...healthy, uplink: 'reachable' }, 0, 1000, policy).kind, 'pass');
});

test('waits until the deadline, then fails naming what is missing', () => {
  const o = { ...healthy, sipAnswers: false };
  assert.is(judgeHealth(o, 0, 299_999, policy).kind, 'wait');
  const v = judgeHealth(o, 0, 300_000, policy);
  assert.equal(v, { kind: 'fail', reason: 'not healthy within 300 s: SIP does not answer OPTIONS' });
});

test('an agent that keeps exiting fails before the deadline', () => {
  const v = judgeHealth({ ...healthy, agentActive: false, agentRestarts: 3 }, 0, 10_000, policy);
  assert.is(v.kind, 'fail');
});

test('a failed slot falls back only when the other slot is good', () => {
  const fail = { kind: 'fail' as const, reason: 'x' };
  assert.equal(slotAction(fail, { booted: 'A', other: 'B', otherGood: true }), { kind: 'fall-back', to: 'B' });
  assert.is(slotAction(fail, { booted: 'A', other: 'B', otherGood: false })?.kind, 'stay');
  assert.is(slotAction({ kind: 'wait', missing: [] }, { booted: 'A', other: 'B', otherGood: true }), undefined);
});

test('reads booted and the other slot from rauc status JSON', () => {
  const json = JSON.stringify({
    compatible: 'outpost-arm64',
    booted: 'B',
    slots: [{ 'rootfs.0': { bootname: 'A', state: 'inactive', boot_status: 'bad' } }, { 'rootfs.1': { bootname: 'B', state: 'booted', boot_status: 'good' } }],
  });
  assert.equal(parseRaucStatus(json), { booted: 'B', other: 'A', otherGood: false });
});

test.run();
