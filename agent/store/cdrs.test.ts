/**
 * CdrRepository.close against a takeover of the same call, with real cr-sqlite stores merged
 * by hand: a node cut off from its peer (alive, docs/partition-drills.md) ends its call while
 * the peer, holding it dead, closes the call as `interrupted` on its behalf. Whatever the
 * order of the merges, every replica must end with the node's own row, whole.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { interruptedCdr, type CallCheckpoint, type CdrRecord } from './cdrs.ts';
import { Store } from './store.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-cdrs-')), durable: false })) - 1]!;

/** Every change `from` holds, merged into `to`: one replication round. */
function replicate(from: Store, to: Store): void {
  to.changes.apply(from.changes.page(0n, {}, 100_000).changes);
}

const checkpoint: CallCheckpoint = {
  callUuid: 'call-1', nodeId: 'a2', caller: '2001', callee: '2002', aCallId: 'a-1', bCallId: 'b-1',
  state: 'answered', startedAt: 1_000, answeredAt: 1_200, codec: 'PCMA/8000', updatedAt: 1_200, link: 'link-1',
};

/** The CDR a2 writes when the callee hangs up after 12 s. */
const own: CdrRecord = {
  ...interruptedCdr(checkpoint), endedAt: 13_200, durationMs: 12_000, disposition: 'answered', sipStatus: 200, sipReason: 'callee hung up',
  endedBy: 'callee', media: '{"a":{"packetsIn":600},"b":{"packetsIn":600}}',
};

/** a2 (the node, cut off), a1 (its peer, which takes the call over) and the hub, all holding a2's checkpoint. */
function site(): { a2: Store; a1: Store; hub: Store } {
  const [a2, a1, hub] = [open(), open(), open()];
  a2.changes.inTransaction(() => a2.cdrs.checkpoint(checkpoint));
  replicate(a2, a1);
  replicate(a2, hub);
  return { a2, a1, hub };
}

const takeOver = (s: Store) => s.changes.inTransaction(() => assert.ok(s.cdrs.takeOver(interruptedCdr(checkpoint)), 'taken over'));
const closeOwn = (s: Store) => s.changes.inTransaction(() => s.cdrs.close(own));
const digest = (s: Store) => s.digests().find((d) => d.table === 'cdrs')!.digest;

function assertOwnRowEverywhere(stores: Record<string, Store>): void {
  for (const [name, s] of Object.entries(stores)) {
    assert.equal(s.cdrs.get('call-1'), own, `${name} holds a2's own row, whole`);
    assert.equal(s.cdrs.checkpointsOf('a2'), [], `${name}: no checkpoint left`);
  }
  assert.is(new Set(Object.values(stores).map(digest)).size, 1, 'one digest');
}

const close = suite('CdrRepository.close');
close.after.each(() => {
  opened.splice(0).forEach((s) => s.close());
});

close('the node\'s own CDR beats a takeover written meanwhile, the takeover merged first', () => {
  const { a2, a1, hub } = site();
  takeOver(a1);
  closeOwn(a2);
  replicate(a1, hub); // the hub gets the takeover first ...
  replicate(a2, hub); // ... then a2's own row, after the heal
  replicate(hub, a1);
  replicate(hub, a2);
  assertOwnRowEverywhere({ a2, a1, hub });
});

close('the node\'s own CDR beats a takeover written meanwhile, its own row merged first', () => {
  const { a2, a1, hub } = site();
  takeOver(a1);
  closeOwn(a2);
  replicate(a2, hub);
  replicate(a1, hub);
  replicate(hub, a1);
  replicate(a1, a2);
  assertOwnRowEverywhere({ a2, a1, hub });
});

close('a takeover merged before the call ended is overwritten by the node\'s own CDR', () => {
  const { a2, a1, hub } = site();
  takeOver(a1);
  replicate(a1, hub);
  replicate(hub, a2); // healed while the call still runs: a2 gets the interrupted row from its hub
  assert.is(a2.cdrs.get('call-1')?.disposition, 'interrupted');
  closeOwn(a2);
  replicate(a2, hub);
  replicate(hub, a1);
  assertOwnRowEverywhere({ a2, a1, hub });
});

close('a repeat is ignored; an interrupted close (a restart) writes the same row as a takeover', () => {
  const { a2, a1 } = site();
  closeOwn(a2);
  a2.changes.inTransaction(() => a2.cdrs.close({ ...own, sipReason: 'again' }));
  assert.equal(a2.cdrs.get('call-1'), own, 'written once');
  const restarted = open();
  restarted.changes.inTransaction(() => restarted.cdrs.checkpoint(checkpoint));
  restarted.changes.inTransaction(() => restarted.cdrs.close(interruptedCdr(checkpoint)));
  takeOver(a1);
  assert.equal(restarted.cdrs.get('call-1'), a1.cdrs.get('call-1'));
  replicate(a1, restarted);
  replicate(restarted, a1);
  assert.is(digest(restarted), digest(a1));
});

close.run();

const search = suite('CdrRepository.search');

search('substring of caller or callee, time range, newest first, paged; LIKE wildcards are literal', () => {
  const s = open();
  const cdr = (uuid: string, caller: string, callee: string, startedAt: number): CdrRecord => ({ ...own, uuid, caller, callee, startedAt, endedAt: startedAt + 1 });
  s.changes.inTransaction(() => {
    s.cdrs.close(cdr('c1', '1001', '2002', 1000));
    s.cdrs.close(cdr('c2', '3003', '1001', 2000));
    s.cdrs.close(cdr('c3', '50%_x', '4004', 3000));
  });
  const all = { from: 0, to: 10_000, limit: 10, offset: 0 };
  assert.equal(s.cdrs.search({ ...all, text: '1001' }).map((c) => c.uuid), ['c2', 'c1']);
  assert.equal(s.cdrs.search({ ...all, text: '' }).map((c) => c.uuid), ['c3', 'c2', 'c1']);
  assert.equal(s.cdrs.search({ ...all, text: '', from: 1500, to: 3000 }).map((c) => c.uuid), ['c2']);
  assert.equal(s.cdrs.search({ ...all, text: '', limit: 1, offset: 1 }).map((c) => c.uuid), ['c2']);
  assert.equal(s.cdrs.search({ ...all, text: '%' }).map((c) => c.uuid), ['c3']);
  assert.equal(s.cdrs.search({ ...all, text: '0_' }).map((c) => c.uuid), []);
});

search.run();
