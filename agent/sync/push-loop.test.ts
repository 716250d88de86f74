/** PushLoop on a real store and source: the commands it returns for timers, pages and relays. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import { NodeKey } from './node-key.ts';
import { PeerDirectory } from './peer-directory.ts';
import { PushLoop } from './push-loop.ts';
import type { Command } from './replication-commands.ts';
import { ScopeBatchSource } from './scope-batch-source.ts';
import { SyncCounters } from './sync-counters.ts';

const stores = new TempStores();

/** A hub's push loop on link `self`; `up` and `inFlight` stand for the shell's link state. */
function hubLoop(state: { up: boolean; inFlight: number }) {
  const { store, dir } = stores.open('pushloop');
  const directory = new PeerDirectory(store, createSilentLogger());
  const source = new ScopeBatchSource({ nodeId: 'hub', store, key: NodeKey.loadOrCreate(dir), directory, batchSize: 2 });
  const counters = new SyncCounters();
  const loop = new PushLoop({
    source,
    links: { isConnected: () => state.up },
    pushLinks: ['self'],
    sync: { pushDelay: 3, maxInFlight: 2 },
    inFlight: () => state.inFlight,
    counters,
    logger: createSilentLogger(),
  });
  const write = (ext: string) => store.users.upsert({ ext, displayName: 'A', realm: 'pbx', ha1Md5: 'h', ha1Sha256: 'h', site: '' }, 1);
  return { loop, source, store, counters, write };
}

const run = (fn: (out: Command[]) => void): Command[] => {
  const out: Command[] = [];
  fn(out);
  return out;
};
const pageOf = (cmds: Command[]) => cmds.find((c) => c.kind === 'push-page');

const test = suite('PushLoop');
test.after.each(() => stores.closeAll());

test('arms one timer, pushes page after page, and pushes again for a commit made meanwhile', () => {
  const h = hubLoop({ up: true, inFlight: 0 });
  for (const ext of ['1', '2', '3']) h.write(ext);
  assert.equal(run((o) => h.loop.schedule(o)), [{ kind: 'schedule', timer: 'push', ms: 3 }]);
  assert.equal(run((o) => h.loop.schedule(o)), []);
  const first = pageOf(run((o) => h.loop.fire(o)))!;
  assert.equal([first.links, first.more], [['self'], true]);
  h.write('4');
  assert.equal(run((o) => h.loop.schedule(o)), [], 'a push is running');
  let cmds = run((o) => h.loop.pageSent(1, true, o));
  while (pageOf(cmds)?.more) cmds = run((o) => h.loop.pageSent(1, true, o));
  assert.equal(run((o) => h.loop.pageSent(1, false, o)), [{ kind: 'schedule', timer: 'push', ms: 3 }], 'then again');
  assert.ok(h.counters.batchesOut >= 3);
});

test('with no link up the source skips to its head', () => {
  const state = { up: false, inFlight: 0 };
  const h = hubLoop(state);
  h.write('1');
  assert.equal(run((o) => h.loop.fire(o)), []);
  assert.is(h.source.pushed, h.store.changes.head());
});

test('a relay goes out at once only when every link has room', () => {
  const state = { up: true, inFlight: 2 };
  const h = hubLoop(state);
  h.write('1');
  const merged = h.store.changes.page(0n, {}, 10).changes;
  const range = { before: 0n, after: h.store.changes.head() };
  assert.equal(run((o) => h.loop.relay(merged, range, o)), [{ kind: 'schedule', timer: 'push', ms: 3 }], 'no room: the push loop takes it');
  const fresh = hubLoop({ up: true, inFlight: 1 });
  fresh.write('1');
  const cmds = run((o) => fresh.loop.relay(fresh.store.changes.page(0n, {}, 10).changes, { before: 0n, after: fresh.store.changes.head() }, o));
  assert.equal(cmds.map((c) => c.kind), ['publish']);
  assert.is(fresh.counters.batchesOut, 1);
});

test.run();
