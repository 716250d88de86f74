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
  h.clock.advance(5); // the answer already on its way lands: a sign of life before the will
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
  h.clock.advance(5);
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

test('a transport failure counts as a miss; an answer after the deadline still shows the peer alive', () => {
  const h = harness();
  const seq1 = (h.core.learn('a2', 'udp:10.0.0.2:5060')[0] as { seq: number }).seq;
  h.clock.advance(300); // seq1 missed at 250
  assert.is(h.core.view()[0]!.misses, 1);
  const pending = h.core.outstanding()[0]!;
  h.run(h.core.failed('a2', pending.seq));
  assert.is(h.core.view()[0]!.misses, 2);
  h.run(h.core.answered('a2', seq1)); // late: a miss already, but the peer is alive
  assert.is(h.core.view()[0]!.misses, 0);
  assert.equal(h.transitions.map((t) => [t.state, t.reason]), [['up', 'keep-alive answered']]);
});

test('a slow peer whose answers all come after the 250 ms deadline stays up', () => {
  const clock = new ManualClock();
  const core = new PeerLiveness(clock);
  const states: string[] = [];
  // Answers 500 ms after each probe (a busy box): every probe is a miss, every answer a sign of life.
  const run = (outputs: LivenessOutput[]) => {
    for (const o of outputs) {
      if (o.kind === 'probe') clock.setTimeout(() => run(core.answered(o.peer, o.seq)), 500);
      else if (o.kind === 'transition') states.push(o.transition.state);
    }
  };
  run(core.learn('a2', 'udp:10.0.0.2:5060'));
  let maxMisses = 0;
  const tick = () => {
    run(core.tick());
    maxMisses = Math.max(maxMisses, core.view()[0]!.misses);
    clock.setTimeout(tick, 50);
  };
  clock.setTimeout(tick, 50);
  clock.advance(5000);
  assert.equal(states, ['up'], 'never down');
  assert.is(maxMisses, 2, 'its probes do miss their deadline, two at a time');
});

test('any SIP message from the peer keeps it up while its keep-alives are lost; silence declares it down within 1 s', () => {
  const h = harness();
  h.run(h.core.learn('a2', 'udp:10.0.0.2:5060')); // never answers a probe (alive stays unset)
  const traffic = () => {
    h.run(h.core.heard('a2'));
    if (h.clock.now() - h.start < 3000) h.clock.setTimeout(traffic, 100);
  };
  traffic();
  h.clock.advance(3000);
  assert.equal(h.transitions.map((t) => [t.state, t.reason]), [['up', 'sip traffic']]);
  const last = h.core.view()[0]!.lastHeard!;
  h.clock.advance(2000);
  const down = h.transitions.at(-1)!;
  assert.equal([down.state, down.reason], ['down', '3 keep-alives unanswered']);
  assert.ok(down.at - last < 1000, `down ${down.at - last} ms after the last message`);
  assert.equal(h.core.heard('a9'), [], 'an unknown peer');
});

/**
 * The shell's loop stepped by hand: `tickAt` runs the timers phase (the core's tick), then the
 * poll phase (answers that reached the socket meanwhile). A stalled loop runs no tick, and the
 * answers wait unread.
 */
function steppedLoop() {
  const clock = new ManualClock();
  const core = new PeerLiveness(clock);
  const transitions: Transition[] = [];
  const socket: number[] = [];
  let answering = true;
  let probes = 0;
  const run = (outputs: LivenessOutput[]) => {
    for (const o of outputs) {
      if (o.kind === 'transition') transitions.push(o.transition);
      else if (o.kind === 'probe') {
        probes++;
        if (answering) socket.push(o.seq);
      }
    }
  };
  const iteration = (afterMs: number) => {
    clock.advance(afterMs);
    run(core.tick());
    const unread = socket.splice(0); // read only after the tick, as Node's poll phase follows its timers
    clock.advance(2);
    for (const seq of unread) run(core.answered('a2', seq));
  };
  /** Iterations of 50 ms until `until` holds (at most 100). */
  const iterateUntil = (until: () => boolean) => {
    for (let i = 0; i < 100 && !until(); i++) iteration(48);
    assert.ok(until(), 'reached');
  };
  return { clock, core, transitions, run, iteration, iterateUntil, probes: () => probes, setAnswering: (a: boolean) => (answering = a) };
}

test('a late local tick (our event loop lagged) does not declare a peer down; the next tick on time judges', () => {
  const l = steppedLoop();
  l.run(l.core.learn('a2', 'udp:10.0.0.2:5060'));
  for (let i = 0; i < 10; i++) l.iteration(48);
  assert.equal(l.transitions.map((t) => t.state), ['up']);
  // Two keep-alives lost (allowed), then the answer to the third waits in the socket while
  // our loop is stalled for 400 ms: its deadline passes before we could read it.
  l.setAnswering(false);
  l.iterateUntil(() => l.core.view()[0]!.misses === 2);
  l.setAnswering(true);
  const sent = l.probes();
  l.iterateUntil(() => l.probes() > sent); // the third probe; its answer lands in the socket
  l.iteration(400); // late tick: deadline passed, answer unread
  assert.is(l.core.lateTickCount, 1);
  assert.equal(l.transitions.map((t) => t.state), ['up'], 'not declared down by a late tick');
  assert.is(l.core.view()[0]!.misses, 0, 'the answer read after the late tick counts');
  // A peer that really died is still declared down, by the first tick on time after a stall.
  l.setAnswering(false);
  l.iterateUntil(() => l.core.view()[0]!.misses === 2 && l.core.outstanding().length > 0);
  l.iteration(400);
  assert.equal(l.transitions.map((t) => t.state), ['up'], 'the late tick judges nothing');
  const lateAt = l.clock.now();
  l.iteration(48);
  assert.equal(l.transitions.map((t) => t.state), ['up', 'down']);
  assert.ok(l.transitions[1]!.at - lateAt <= 50, 'judged at the next tick on time');
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
