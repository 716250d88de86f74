import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { claimState, decideEnrolment, parseTtl, type ClaimMarks, type ClaimRecord, type EnrolmentFacts } from './claim-rules.ts';
import { TrustError, type TrustErrorCode } from './errors.ts';

const HOUR = 3_600_000;

function claim(clock: ManualClock, over: Partial<ClaimRecord> = {}): ClaimRecord {
  return { id: '7KQ2', site: 'branch-a', nodeId: undefined, key: '00', createdAt: clock.now(), expiresAt: clock.now() + 24 * HOUR, ...over };
}

function facts(clock: ManualClock, over: Partial<EnrolmentFacts> = {}): EnrolmentFacts {
  return { claim: claim(clock), marks: {}, macValid: true, requestedSite: 'branch-a', requestedNodeId: 'a1', isCertified: () => false, hubId: 'hub', now: clock.now(), ...over };
}

function refusal(f: EnrolmentFacts): TrustErrorCode {
  try {
    decideEnrolment(f);
  } catch (err) {
    assert.instance(err, TrustError);
    return (err as TrustError).code;
  }
  return assert.unreachable('granted') as never;
}

const state = suite('claimState');

state('open until its expiry, then expired (ManualClock); used and revoked win over expiry', () => {
  const clock = new ManualClock();
  const c = claim(clock);
  assert.is(claimState(c, {}, clock.now()), 'open');
  clock.advance(24 * HOUR - 1);
  assert.is(claimState(c, {}, clock.now()), 'open');
  clock.advance(1);
  assert.is(claimState(c, {}, clock.now()), 'expired');
  const used: ClaimMarks = { used: { at: 1, nodeId: 'a1', from: '127.0.0.1' } };
  assert.is(claimState(c, used, clock.now()), 'used');
  assert.is(claimState(c, { ...used, revoked: { at: 2 } }, clock.now()), 'revoked');
});

const decide = suite('decideEnrolment');

decide('grants the node id the box asks for in the claim\'s site', () => {
  const clock = new ManualClock();
  assert.equal(decideEnrolment(facts(clock)), { nodeId: 'a1', site: 'branch-a' });
});

decide('a wrong code (MAC fails) and an unknown claim id are refused alike, before anything else is told', () => {
  const clock = new ManualClock();
  assert.is(refusal(facts(clock, { macValid: false })), 'trust.claim-wrong');
  assert.is(refusal(facts(clock, { claim: undefined, macValid: false })), 'trust.claim-wrong');
  // A used claim with a wrong code: the box is told "wrong", not "used".
  assert.is(refusal(facts(clock, { macValid: false, marks: { used: { at: 1, nodeId: 'a1', from: 'x' } } })), 'trust.claim-wrong');
});

decide('single use: a used claim is refused', () => {
  const clock = new ManualClock();
  assert.is(refusal(facts(clock, { marks: { used: { at: clock.now(), nodeId: 'a1', from: '127.0.0.1' } } })), 'trust.claim-used');
});

decide('expiry: refused from its expiry on (ManualClock)', () => {
  const clock = new ManualClock();
  const c = claim(clock, { expiresAt: clock.now() + HOUR });
  clock.advance(HOUR - 1);
  assert.equal(decideEnrolment(facts(clock, { claim: c })), { nodeId: 'a1', site: 'branch-a' });
  clock.advance(1);
  assert.is(refusal(facts(clock, { claim: c })), 'trust.claim-expired');
});

decide('a revoked claim is refused', () => {
  const clock = new ManualClock();
  assert.is(refusal(facts(clock, { marks: { revoked: { at: clock.now() } } })), 'trust.claim-revoked');
});

decide('node-id binding: a claim made for a1 takes a1 or no name, and refuses a2', () => {
  const clock = new ManualClock();
  const bound = claim(clock, { nodeId: 'a1' });
  assert.equal(decideEnrolment(facts(clock, { claim: bound, requestedNodeId: 'a1' })), { nodeId: 'a1', site: 'branch-a' });
  assert.equal(decideEnrolment(facts(clock, { claim: bound, requestedNodeId: undefined })), { nodeId: 'a1', site: 'branch-a' });
  assert.is(refusal(facts(clock, { claim: bound, requestedNodeId: 'a2' })), 'trust.claim-node');
});

decide('a claim made for a1 may enrol a1 again (a rebuilt box); an unbound claim may not take a certified id or the hub\'s', () => {
  const clock = new ManualClock();
  const certified = (id: string) => id === 'a1';
  assert.equal(decideEnrolment(facts(clock, { claim: claim(clock, { nodeId: 'a1' }), isCertified: certified })), { nodeId: 'a1', site: 'branch-a' });
  assert.is(refusal(facts(clock, { isCertified: certified })), 'trust.claim-node');
  assert.is(refusal(facts(clock, { requestedNodeId: 'hub' })), 'trust.claim-node');
  assert.is(refusal(facts(clock, { requestedNodeId: undefined })), 'trust.claim-node');
  assert.is(refusal(facts(clock, { requestedNodeId: 'A1!' })), 'trust.claim-node');
});

decide('a box configured for another site is refused', () => {
  const clock = new ManualClock();
  assert.is(refusal(facts(clock, { requestedSite: 'branch-b' })), 'trust.claim-site');
});

const ttl = suite('parseTtl');

ttl('reads s, m, h, d between 1 minute and 30 days', () => {
  assert.is(parseTtl('24h'), 24 * HOUR);
  assert.is(parseTtl('30m'), 30 * 60_000);
  assert.is(parseTtl('7d'), 7 * 24 * HOUR);
  assert.is(parseTtl('60s'), 60_000);
  for (const bad of ['59s', '31d', '24', 'h', '1.5h', '-1h']) assert.throws(() => parseTtl(bad), (e: unknown) => e instanceof TrustError && e.code === 'trust.claim-format', bad);
});

state.run();
decide.run();
ttl.run();
