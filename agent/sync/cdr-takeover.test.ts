import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { interruptedCdr, type CallCheckpoint } from '../store/cdrs.ts';
import { Store } from '../store/store.ts';
import { CdrTakeover, type Takeover } from './cdr-takeover.ts';

const GRACE = 5000;
const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-takeover-')), durable: false })) - 1]!;

/** Every change `from` holds (its own and merged ones), merged into `to`: one replication round. */
function replicate(from: Store, to: Store): void {
  to.changes.apply(from.changes.page(0n, {}, 100_000).changes);
}

function checkpointOf(node: string, uuid: string, over: Partial<CallCheckpoint> = {}): CallCheckpoint {
  return {
    callUuid: uuid, nodeId: node, caller: '2001', callee: '2002', aCallId: `a-${uuid}`, bCallId: `b-${uuid}`,
    state: 'answered', startedAt: 1_000, answeredAt: 3_000, codec: 'PCMU', updatedAt: 33_000, link: '', ...over,
  };
}

function coreOn(store: Store, self: string, site: string | undefined, clock: ManualClock): CdrTakeover {
  return new CdrTakeover({ self, site, graceMs: GRACE, clock, checkpointsOf: (n) => store.cdrs.checkpointsOf(n) });
}

/** What the shell does with a tick's takeovers: one transaction per takeover. */
function execute(store: Store, takeovers: Takeover[]): number {
  let closed = 0;
  for (const t of takeovers) store.changes.inTransaction(() => t.cdrs.forEach((c) => (closed += store.cdrs.takeOver(c) ? 1 : 0)));
  return closed;
}

const digest = (s: Store, table: string) => s.digests().find((d) => d.table === table)!;

const test = suite('CdrTakeover');
test.after.each(() => {
  opened.splice(0).forEach((s) => s.close());
});

test('a box takes a dead peer of its site over only once the grace period has run out', () => {
  const clock = new ManualClock();
  const b = open();
  b.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
  const core = coreOn(b, 'b1', 'site-a', clock);
  core.peerDown('a1', clock.now(), 'site-a');
  assert.is(core.dueAt('a1'), clock.now() + GRACE);
  clock.advance(GRACE - 1);
  assert.equal(core.tick(), [], 'merely slow: not robbed yet');
  clock.advance(1);
  const due = core.tick();
  assert.is(due.length, 1);
  assert.is(due[0]!.owner, 'a1');
  assert.equal(due[0]!.cdrs, [interruptedCdr(checkpointOf('a1', 'call-1'))]);
  assert.is(execute(b, due), 1);
  assert.equal(b.cdrs.checkpointsOf('a1'), []);
  const cdr = b.cdrs.get('call-1')!;
  assert.is(cdr.nodeId, 'a1', 'the CDR stays the dead box’s row');
  assert.is(cdr.disposition, 'interrupted');
  assert.is(cdr.endedAt, 33_000, 'ends at the last checkpoint, not at the closer’s clock');
  assert.is(cdr.durationMs, 30_000);
  assert.equal(core.tick(), [], 'nothing left');
});

test('a peer back within the grace period keeps its calls; other sites, the hub and itself are ignored', () => {
  const clock = new ManualClock();
  const b = open();
  for (const n of ['a1', 'x1', 'hub', 'b1']) b.cdrs.checkpoint(checkpointOf(n, `call-${n}`));
  const core = coreOn(b, 'b1', 'site-a', clock);
  core.peerDown('a1', clock.now(), 'site-a');
  core.peerDown('x1', clock.now(), 'site-x');
  core.peerDown('hub', clock.now(), '', 'hub');
  core.peerDown('b1', clock.now(), 'site-a');
  clock.advance(GRACE / 2);
  core.peerUp('a1');
  clock.advance(GRACE);
  assert.equal(core.tick(), []);
  assert.is(core.dueAt('a1'), undefined);
  // Declared dead again: a fresh grace period from then.
  core.changed({ peer: 'a1', state: 'down', at: clock.now() });
  assert.equal(core.tick(), []);
  clock.advance(GRACE);
  assert.is(core.tick().length, 1);
});

test('checkpoints that arrive after the takeover (a late catch-up) are closed too', () => {
  const clock = new ManualClock();
  const b = open();
  const core = coreOn(b, 'b1', 'site-a', clock);
  core.peerDown('a1', clock.now(), 'site-a');
  clock.advance(GRACE);
  assert.equal(core.tick(), []);
  b.cdrs.checkpoint(checkpointOf('a1', 'late'));
  clock.advance(1000);
  assert.is(execute(b, core.tick()), 1);
});

test('two survivors racing write the identical row: one CDR, equal digests everywhere', () => {
  const clock = new ManualClock();
  const [a, b, c, hub] = [open(), open(), open(), open()];
  a.cdrs.checkpoint(checkpointOf('a1', 'call-1', { state: 'ringing', answeredAt: null, updatedAt: 1_000 }));
  a.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
  a.cdrs.checkpoint(checkpointOf('a1', 'call-2', { state: 'ringing', answeredAt: null, updatedAt: 2_000 }));
  for (const s of [b, c, hub]) replicate(a, s);
  const cores = [coreOn(b, 'b1', 'site-a', clock), coreOn(c, 'c1', 'site-a', clock)];
  for (const core of cores) core.peerDown('a1', clock.now(), 'site-a');
  clock.advance(GRACE);
  assert.is(execute(b, cores[0]!.tick()), 2);
  assert.is(execute(c, cores[1]!.tick()), 2);
  for (const [from, to] of [[b, c], [c, b], [b, hub], [c, hub], [hub, b], [hub, c]] as const) replicate(from, to);
  for (const s of [b, c, hub]) {
    assert.is(digest(s, 'cdrs').rows, 2);
    assert.is(digest(s, 'dialogs').rows, 0);
    assert.equal(s.cdrs.get('call-1'), b.cdrs.get('call-1'));
  }
  assert.is(digest(c, 'cdrs').digest, digest(b, 'cdrs').digest);
  assert.is(digest(hub, 'cdrs').digest, digest(b, 'cdrs').digest);
});

test('survivors holding different versions of a checkpoint merge to the newer one', () => {
  const clock = new ManualClock();
  const [b, c] = [open(), open()];
  b.cdrs.checkpoint(checkpointOf('a1', 'call-1', { state: 'ringing', answeredAt: null, updatedAt: 1_000 }));
  c.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
  const cores = [coreOn(b, 'b1', 'site-a', clock), coreOn(c, 'c1', 'site-a', clock)];
  for (const core of cores) core.peerDown('a1', clock.now(), 'site-a');
  clock.advance(GRACE);
  execute(b, cores[0]!.tick());
  execute(c, cores[1]!.tick());
  replicate(b, c);
  replicate(c, b);
  assert.equal(b.cdrs.get('call-1'), c.cdrs.get('call-1'));
  assert.equal(b.cdrs.get('call-1'), interruptedCdr(checkpointOf('a1', 'call-1')));
});

test('a box that comes back writes no second CDR, whether it recovers before or after catching up', () => {
  const clock = new ManualClock();
  for (const recoversFirst of [true, false]) {
    const [a, b] = [open(), open()];
    a.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
    replicate(a, b);
    const core = coreOn(b, 'b1', 'site-a', clock);
    core.peerDown('a1', clock.now(), 'site-a');
    clock.advance(GRACE);
    execute(b, core.tick());
    // a1 restarts: its recovery closes its own checkpoint, before or after b1's row reaches it.
    const recover = () => a.cdrs.checkpointsOf('a1').forEach((cp) => a.cdrs.close(interruptedCdr(cp)));
    if (recoversFirst) recover();
    replicate(b, a);
    if (!recoversFirst) recover();
    replicate(a, b);
    core.peerUp('a1');
    for (const s of [a, b]) {
      assert.is(digest(s, 'cdrs').rows, 1, `recovers first: ${recoversFirst}`);
      assert.is(digest(s, 'dialogs').rows, 0);
    }
    assert.is(digest(a, 'cdrs').digest, digest(b, 'cdrs').digest);
  }
});

test('the hub waits twice the grace period and finds nothing left when a survivor took over', () => {
  const clock = new ManualClock();
  const [a, b, hub] = [open(), open(), open()];
  a.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
  replicate(a, b);
  replicate(a, hub);
  const box = coreOn(b, 'b1', 'site-a', clock);
  const central = coreOn(hub, 'hub', undefined, clock);
  box.peerDown('a1', clock.now(), 'site-a');
  central.peerDown('a1', clock.now(), 'site-a');
  assert.is(central.delayMs, 2 * GRACE);
  clock.advance(GRACE);
  assert.equal(central.tick(), []);
  execute(b, box.tick());
  replicate(b, hub);
  clock.advance(GRACE);
  assert.equal(central.tick(), [], 'the survivor’s delete reached the hub');
});

test('the hub closes the calls of a one-box site, and of a site whose survivors did not', () => {
  const clock = new ManualClock();
  const [a, hub] = [open(), open()];
  a.cdrs.checkpoint(checkpointOf('solo', 'call-1'));
  replicate(a, hub);
  const central = coreOn(hub, 'hub', undefined, clock);
  central.changed({ peer: 'solo', state: 'down', at: clock.now(), site: 'site-s', role: 'node' });
  clock.advance(2 * GRACE);
  assert.is(execute(hub, central.tick()), 1);
  assert.is(hub.cdrs.get('call-1')!.nodeId, 'solo');
  // The box's own recovery later writes the same row.
  a.cdrs.checkpointsOf('solo').forEach((cp) => a.cdrs.close(interruptedCdr(cp)));
  replicate(hub, a);
  replicate(a, hub);
  assert.is(digest(a, 'cdrs').digest, digest(hub, 'cdrs').digest);
});

test('takeOver refuses anything but an interrupted CDR of a checkpoint still held for its owner', () => {
  const b = open();
  b.cdrs.checkpoint(checkpointOf('a1', 'call-1'));
  assert.not.ok(b.cdrs.takeOver({ ...interruptedCdr(checkpointOf('a1', 'call-1')), disposition: 'answered' }));
  assert.not.ok(b.cdrs.takeOver(interruptedCdr(checkpointOf('x1', 'call-1'))), 'another owner');
  assert.not.ok(b.cdrs.takeOver(interruptedCdr(checkpointOf('a1', 'call-9'))), 'no checkpoint');
  assert.ok(b.cdrs.takeOver(interruptedCdr(checkpointOf('a1', 'call-1'))));
  assert.not.ok(b.cdrs.takeOver(interruptedCdr(checkpointOf('a1', 'call-1'))), 'already closed');
});

test.run();
