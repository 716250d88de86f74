/**
 * The two sending halves on real stores: a node's BatchSource (its own stream) and the hub's
 * ScopeBatchSource (scope streams, relays, scope pages); batches are read back with the wire
 * decoder.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import { decodeBatch, decodeBatchHeader } from '../wire/change-batch.ts';
import type { SyncRequest } from '../wire/messages.ts';
import { topics } from '../wire/topics.ts';
import { BatchSource } from './batch-source.ts';
import { NodeKey } from './node-key.ts';
import { PeerDirectory } from './peer-directory.ts';
import { ScopeBatchSource } from './scope-batch-source.ts';

const stores = new TempStores();

function options(id: string) {
  const { store, dir } = stores.open(`source-${id}`);
  return { nodeId: id, store, key: NodeKey.loadOrCreate(dir), directory: new PeerDirectory(store, createSilentLogger()), batchSize: 100 };
}
const user = (ext: string, site: string) => ({ ext, displayName: 'A', realm: 'pbx', ha1Md5: 'h', ha1Sha256: 'h', site });
const request = (stream: string, since = '0') => ({ requester: 'n9', stream, since, limit: 1000, replyTo: topics.syncResponse('n9'), requestId: 'r1' });
const close = () => stores.closeAll();

const scope = suite('ScopeBatchSource');
scope.after.each(close);

scope('pushes one batch per scope stream, each starting where that stream last ended', () => {
  const o = options('hub');
  const hub = new ScopeBatchSource(o);
  o.store.users.upsert(user('1001', ''), 1);
  o.store.users.upsert(user('1002', 's1'), 2);
  const first = hub.nextPush();
  assert.equal(first.batches.map((b) => b.topic).sort(), [topics.hubChanges('global'), topics.hubChanges('site/s1')]);
  o.store.users.upsert(user('1003', 's1'), 3);
  const [next] = hub.nextPush().batches;
  const h = decodeBatchHeader(next!.bytes);
  assert.equal([next!.topic, h.from, h.to], [topics.hubChanges('site/s1'), 2n, 3n]);
  assert.equal(hub.nextPush(), { batches: [], more: false });
});

scope('relays a merge only when everything before it was published', () => {
  const o = options('hub');
  const hub = new ScopeBatchSource(o);
  o.store.users.upsert(user('1001', ''), 1);
  const change = o.store.changes.page(0n, {}, 10).changes;
  assert.is(hub.relay(change, { before: 1n, after: 2n }), undefined, 'version 1 not published yet');
  hub.nextPush();
  const relayed = hub.relay(change, { before: 1n, after: 2n })!;
  assert.equal(relayed.map((b) => decodeBatchHeader(b.bytes).to), [2n]);
  assert.is(hub.pushed, 2n);
});

scope('leaves out of a page the changes of the store the request names, not of the one the hub knows', () => {
  const o = options('hub');
  const old = options('n9'); // the requester's store before it was rebuilt
  old.store.users.upsert(user('1001', 's1'), 1);
  o.store.changes.apply(old.store.changes.page(0n, {}, 10).changes);
  const oldSiteId = old.store.changes.siteId().toString('hex');
  o.directory.observe({ nodeId: 'n9', role: 'node', site: 's1', online: true, publicKey: old.key.publicKey, siteId: oldSiteId, schema: 6, head: '1', at: 0 }, 0);
  const hub = new ScopeBatchSource(o);
  const exts = (req: SyncRequest) => decodeBatch(hub.reply(req)).batch.changes.filter((c) => c.cid === 'display_name').length;
  assert.is(exts(request('site/s1')), 0, 'an older requester (no siteId): the store the hub knows is left out');
  assert.is(exts({ ...request('site/s1'), siteId: oldSiteId }), 0);
  assert.is(exts({ ...request('site/s1'), siteId: 'ab'.repeat(16) }), 1, 'a rebuilt requester gets back what its old store wrote');
});

scope('serves a scope stream page', () => {
  const o = options('hub');
  o.store.users.upsert(user('1001', 's1'), 1);
  o.store.users.upsert(user('1002', 's2'), 2);
  const reply = decodeBatch(new ScopeBatchSource(o).reply(request('site/s1')));
  assert.equal([reply.batch.kind, reply.batch.stream, reply.batch.requestId], ['reply', 'site/s1', 'r1']);
  assert.ok(reply.batch.changes.length > 0);
  assert.ok(reply.batch.changes.every((c) => c.table === 'users'));
});

const own = suite('BatchSource');
own.after.each(close);

own('pushes its own stream on node/{id}/changes and serves it on request', () => {
  const o = options('n1');
  const n1 = new BatchSource(o);
  o.store.bans.upsert({ ip: '10.0.0.1', nodeId: 'n1', reason: 'r', until: 9e12, createdAt: 1 });
  const [push] = n1.nextPush().batches;
  assert.is(push!.topic, topics.nodeChanges('n1'));
  assert.is(decodeBatchHeader(push!.bytes).stream, 'own');
  const reply = decodeBatch(n1.reply(request('own')));
  assert.ok(reply.batch.changes.length > 0);
  assert.ok(reply.batch.changes.every((c) => c.table === 'bans'));
  assert.is(n1.relay([], { before: 0n, after: 1n }), undefined, 'a box does not relay');
});

own('refuses to serve a scope stream', () => {
  assert.throws(() => new BatchSource(options('n1')).reply(request('global')), /only the hub/);
});

scope.run();
own.run();
