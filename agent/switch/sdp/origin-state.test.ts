import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OriginState } from './origin-state.ts';

const Stamp = suite('OriginState.stamp');

Stamp('first SDP: username outpost, the leg session id, the first version, the relay address', () => {
  const o = new OriginState({ sessionId: '4711' });
  assert.is(o.currentVersion, undefined);
  assert.equal(o.stamp('body-1', '198.51.100.1'), { username: 'outpost', sessionId: '4711', version: 1, address: '198.51.100.1' });
  assert.is(o.currentVersion, 1);
});

Stamp('a changed SDP increments the version by exactly one (RFC 3264 §8)', () => {
  const o = new OriginState({ sessionId: '4711', firstVersion: 7 });
  assert.equal(['a', 'b', 'c', 'a'].map((body) => o.stamp(body, '198.51.100.1').version), [7, 8, 9, 10]);
});

Stamp('the same SDP sent again keeps its version', () => {
  const o = new OriginState({ sessionId: '4711' });
  assert.equal(['a', 'a', 'b', 'b', 'b'].map((body) => o.stamp(body, '198.51.100.1').version), [1, 1, 2, 2, 2]);
});

Stamp('session id and address stay as on the first SDP (o= identical but for the version)', () => {
  const o = new OriginState({ sessionId: '4711' });
  o.stamp('a', '198.51.100.1');
  assert.equal(o.stamp('b', '2001:db8::1'), { username: 'outpost', sessionId: '4711', version: 2, address: '198.51.100.1' });
});

Stamp('without options: a random numeric session id, version 1; two legs differ', () => {
  const a = new OriginState();
  const b = new OriginState();
  assert.match(a.sessionId, /^[1-9]\d*$/);
  assert.is.not(a.sessionId, b.sessionId);
  assert.is(a.stamp('x', '192.0.2.1').version, 1);
});

Stamp('refuses a session id that is not digits, and a bad first version', () => {
  assert.throws(() => new OriginState({ sessionId: 'abc' }), RangeError);
  assert.throws(() => new OriginState({ firstVersion: -1 }), RangeError);
  assert.throws(() => new OriginState({ firstVersion: 1.5 }), RangeError);
});

Stamp.run();
