import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { PeerLiveness, type LivenessOutput, type Transition } from './peer-liveness.ts';

/**
 * The core driven as its shell drives it: a tick every 50 ms, and a simulated peer that answers
 * each probe after 2 ms while `alive`, or never.
 */
function harness() {
  const clock = new ManualClock();
  const core = new PeerLiveness(clock);
  const transitions: Transition[] = [];
  const probes: Array<{ peer: string; seq: number; at: number }> = [];
  const abandoned: number[] = [];
  const alive = new Map<string, boolean>();
  const run = (outputs: LivenessOutput[]) => {
    for (const o of outputs) {
      if (o.kind === 'transition') transitions.push(o.transition);
      else if (o.kind === 'abandon') abandoned.push(o.seq);
      else {
        probes.push({ peer: o.peer, seq: o.seq, at: clock.now() });
        if (alive.get(o.peer)) clock.setTimeout(() => run(core.answered(o.peer, o.seq)), 2);
      }
    }
  };
  const tick = () => {
    run(core.tick());
    clock.setTimeout(tick, 50);
  };
  clock.setTimeout(tick, 50);
  return { clock, core, transitions, probes, abandoned, alive, run, start: clock.now() };
}

const test = suite('PeerLiveness');

test('a peer that answers is up after its first answer', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  assert.is(h.core.isUp('a2'), false, 'unknown until answered');
  h.clock.advance(2);
  assert.is(h.core.isUp('a2'), true);
  assert.equal(h.transitions.map((t) => [t.peer, t.state, t.at - h.start]), [['a2', 'up', 2]]);
  h.clock.advance(5000);
  assert.is(h.transitions.length, 1, 'no transition while it keeps answering');
  assert.ok(h.probes.length >= 24 && h.probes.length <= 27, `about one probe per 200 ms, got ${h.probes.length}`);
});

test('a peer that stops answering is declared down within 1 s of its last answer', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(1003);
  const lastAnswer = h.probes.at(-1)!.at + 2;
  h.alive.set('a2', false);
  h.clock.advance(2000);
  const down = h.transitions.find((t) => t.state === 'down')!;
  assert.ok(down, 'declared down');
  assert.ok(down.at - lastAnswer < 1000, `down ${down.at - lastAnswer} ms after the last answer`);
  assert.is(down.reason, '3 keep-alives unanswered');
  assert.is(h.core.isUp('a2'), false);
  assert.ok(h.abandoned.length >= 3, 'each missed probe is abandoned');
});

test('a single or double miss between answers does not declare a peer down', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(500);
  for (let i = 0; i < 10; i++) {
    h.alive.set('a2', false);
    h.clock.advance(350); // two probes lost
    h.alive.set('a2', true);
    h.clock.advance(250);
  }
  assert.equal(h.transitions.map((t) => t.state), ['up']);
});

test('an MQTT offline (the will) confirmed by one unanswered probe declares down at once', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.run(h.core.mqttState('a2', true));
  h.clock.advance(400);
  h.alive.set('a2', false);
  const willAt = h.clock.now();
  h.run(h.core.mqttState('a2', false));
  assert.is(h.probes.at(-1)!.at, willAt, 'a confirming probe goes out at once');
  h.clock.advance(1000);
  const down = h.transitions.find((t) => t.state === 'down')!;
  assert.is(down.reason, 'mqtt offline, keep-alive unanswered');
  assert.ok(down.at - willAt <= 300, `down ${down.at - willAt} ms after the will`);
});

test('an MQTT offline that the keep-alive contradicts leaves the peer up', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(400);
  h.run(h.core.mqttState('a2', false)); // its broker link dropped, its SIP did not
  h.clock.advance(3000);
  assert.equal(h.transitions.map((t) => t.state), ['up']);
  assert.is(h.core.isUp('a2'), true);
});

test('a lost link to the peer\'s broker is a hint: confirmed by one unanswered probe, contradicted by an answer', () => {
  const h = harness();
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(400);
  h.run(h.core.suspect('a2'));
  h.clock.advance(1000);
  assert.equal(h.transitions.map((t) => t.state), ['up'], 'answered: stays up');
  h.alive.set('a2', false);
  const lostAt = h.clock.now();
  const before = h.probes.length;
  h.run(h.core.suspect('a2'));
  h.run(h.core.suspect('a2'));
  assert.is(h.probes.length - before, 1, 'one confirming probe, however many hints');
  h.clock.advance(1000);
  const down = h.transitions.at(-1)!;
  assert.equal([down.state, down.reason], ['down', 'broker link lost, keep-alive unanswered']);
  assert.ok(down.at - lostAt <= 300);
  assert.equal(h.core.suspect('a3'), [], 'an unknown peer');
});

test('without a SIP address the MQTT state alone decides', () => {
  const h = harness();
  h.run(h.core.learn('a3', undefined));
  assert.is(h.core.view()[0]!.state, 'unknown');
  h.run(h.core.mqttState('a3', true));
  assert.is(h.core.isUp('a3'), true);
  assert.equal(h.core.suspect('a3'), [], 'a hint proves nothing without a keep-alive');
  assert.is(h.core.isUp('a3'), true);
  h.run(h.core.mqttState('a3', false));
  assert.is(h.core.isUp('a3'), false);
  assert.equal(h.transitions.map((t) => t.state), ['up', 'down']);
  assert.is(h.probes.length, 0);
});

test('circuit open: a down peer is probed (half-open) and is up again at its first answer', () => {
  const h = harness();
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(1000);
  assert.equal(h.transitions.map((t) => t.state), ['down'], 'never answered: unknown -> down');
  const before = h.probes.length;
  h.clock.advance(1000);
  assert.ok(h.probes.length - before >= 4, 'still probed while down');
  assert.is(h.core.isUp('a2'), false);
  h.alive.set('a2', true);
  const back = h.clock.now();
  h.clock.advance(300);
  const up = h.transitions.at(-1)!;
  assert.is(up.state, 'up');
  assert.ok(up.at - back <= 252, `up ${up.at - back} ms after it came back`);
  assert.is(h.core.isUp('a2'), true);
});

test('flapping: every change is one transition, alternating, each with its time', () => {
  const h = harness();
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  for (let i = 0; i < 5; i++) {
    h.alive.set('a2', true);
    h.clock.advance(600);
    h.alive.set('a2', false);
    h.clock.advance(1200);
  }
  const states = h.transitions.map((t) => t.state);
  assert.equal(states, ['up', 'down', 'up', 'down', 'up', 'down', 'up', 'down', 'up', 'down']);
  for (let i = 1; i < h.transitions.length; i++) assert.ok(h.transitions[i]!.at > h.transitions[i - 1]!.at);
  assert.is(h.core.view()[0]!.since, h.transitions.at(-1)!.at);
});

test('a transport failure counts as a miss; a late answer after the deadline does not count', () => {
  const h = harness();
  const seq1 = (h.core.learn('a2', 'udp:10.0.0.2:5060')[0] as { seq: number }).seq;
  h.clock.advance(300); // seq1 missed at 250
  assert.equal(h.core.answered('a2', seq1), [], 'late answer ignored');
  assert.is(h.core.view()[0]!.misses, 1);
  const pending = h.core.outstanding()[0]!;
  h.run(h.core.failed('a2', pending.seq));
  assert.is(h.core.view()[0]!.misses, 2);
});

test('a new SIP address abandons the probes to the old one and starts over', () => {
  const h = harness();
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  h.clock.advance(20);
  const old = h.core.outstanding().map((o) => o.seq);
  h.alive.set('a2', true);
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5070'));
  assert.ok(old.every((s) => h.abandoned.includes(s)));
  h.clock.advance(2);
  assert.is(h.core.isUp('a2'), true);
  assert.is(h.core.view()[0]!.sip, 'udp:10.0.0.2:5070');
  assert.equal(h.core.learn('a2', 'udp:10.0.0.2:5070'), [], 'the same address again changes nothing');
});

test('forget abandons its probes and drops the peer', () => {
  const h = harness();
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060'));
  const out = h.core.forget('a2');
  assert.is(out.filter((o) => o.kind === 'abandon').length, 1);
  assert.equal(h.core.view(), []);
  assert.is(h.core.isUp('a2'), false);
});

test.run();
