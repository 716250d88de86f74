import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../lib/logger.ts';
import { DirectSqlPool } from '../store/direct-sql.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import { Store } from '../store/store.ts';
import { decodeBatch, encodeBatch } from '../wire/change-batch.ts';
import { BatchReceiver } from './batch-receiver.ts';
import { HubStrategy } from './hub-strategy.ts';
import { NodeKey } from './node-key.ts';
import { NodeStrategy } from './node-strategy.ts';
import { PeerDirectory } from './peer-directory.ts';
import { SyncCounters } from './sync-counters.ts';

const logger = createLogger({ level: 'silent' });
const opened: Store[] = [];
/** Rows the test writes as local writes of a replica (through a connection of its own). */
const direct = new DirectSqlPool({ durable: false });

function replica(nodeId: string, site = 'a', siteAdminKey?: NodeKey, role: 'node' | 'hub' = 'node') {
  const dataDir = mkdtempSync(join(tmpdir(), `outpost-recv-${nodeId}-`));
  const store = Store.open({ dataDir });
  opened.push(store);
  const key = NodeKey.loadOrCreate(dataDir);
  const directory = new PeerDirectory(store, logger);
  const counters = new SyncCounters();
  const policy = role === 'node' ? new NodeStrategy({ nodeId, site, hub: { url: 'mqtt://hub.test:1', id: 'hub' } }) : new HubStrategy({ nodeId, brokerUrl: 'mqtt://hub.test:1' });
  const receiver = new BatchReceiver({ nodeId, policy, store, directory, counters, logger });
  const source = policy.createSource({ nodeId, store, key, ...(siteAdminKey ? { siteAdminKey } : {}), directory, batchSize: 1000 });
  const state = () => ({
    nodeId,
    role,
    site,
    online: true,
    publicKey: key.publicKey,
    siteId: store.changes.siteId().toString('hex'),
    schema: SCHEMA_VERSION,
    head: store.changes.head().toString(),
    at: Date.now(),
  });
  return { nodeId, store, key, directory, counters, receiver, source, state };
}

/** Makes `to` know `from` and take its own stream, as a site peer does. */
function introduce(to: ReturnType<typeof replica>, from: ReturnType<typeof replica>): void {
  to.directory.observe(from.state(), Date.now());
  to.receiver.stream(from.nodeId, 'own');
}

function siteAdminKey(): { key: NodeKey; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-siteadmin-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'a.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { key: NodeKey.load(join(dir, 'a.key')), publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

const test = suite('BatchReceiver');
test.after.each(() => {
  direct.closeAll();
  opened.splice(0).forEach((s) => s.close());
});

test('merges a push, ignores its duplicate, and reports a gap after a lost batch', () => {
  const n1 = replica('n1');
  const n2 = replica('n2');
  introduce(n2, n1);
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c1', 'n1')`);
  const first = n1.source.nextPush().batches[0]!;
  const applied = n2.receiver.receive(first.bytes);
  assert.is(applied.kind, 'applied');
  assert.is(n2.store.cdrs.since(0).length, 1);
  assert.is(n2.receiver.receive(first.bytes).kind, 'duplicate');
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c2', 'n1')`);
  n1.source.nextPush(); // lost on the way
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c3', 'n1')`);
  assert.is(n2.receiver.receive(n1.source.nextPush().batches[0]!.bytes).kind, 'gap');
  assert.is(n2.store.changes.watermark('n1', 'own'), n2.receiver.stream('n1', 'own').watermark);
});

test('a batch signed with another key is dropped and counted', () => {
  const n1 = replica('n1');
  const n2 = replica('n2');
  introduce(n2, n1);
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c1', 'n1')`);
  const { batch } = decodeBatch(n1.source.nextPush().batches[0]!.bytes);
  const mallory = replica('mallory');
  const forged = encodeBatch(batch, (b) => mallory.key.sign(b));
  assert.is(n2.receiver.receive(forged).kind, 'bad-signature');
  assert.is(n2.counters.badSignature, 1);
  assert.is(n2.store.cdrs.since(0).length, 0);
});

test('a batch from a newer schema is kept, not merged, and blocks its stream', () => {
  const n1 = replica('n1');
  const n2 = replica('n2');
  introduce(n2, n1);
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c1', 'n1')`);
  const { batch } = decodeBatch(n1.source.nextPush().batches[0]!.bytes);
  const newer = encodeBatch({ ...batch, schema: SCHEMA_VERSION + 1 }, (b) => n1.key.sign(b));
  assert.is(n2.receiver.receive(newer).kind, 'kept');
  assert.is(n2.store.changes.pendingCount(), 1);
  assert.is(n2.store.cdrs.since(0).length, 0);
  assert.is(n2.receiver.receive(newer).kind, 'blocked');
});

test("users of a box's site are accepted with the site admin signature, refused without", () => {
  const admin = siteAdminKey();
  const n1 = replica('n1', 'a', admin.key);
  const plain = replica('n3');
  const recv = replica('n2');
  recv.store.sites.upsert({ id: 'a', name: '', adminPublicKey: admin.publicKey }, 1);
  introduce(recv, n1);
  introduce(recv, plain);
  direct.run(n1.store, `INSERT INTO users (ext, site) VALUES ('5001', 'a')`);
  assert.is(recv.receiver.receive(n1.source.nextPush().batches[0]!.bytes).kind, 'applied');
  assert.ok(recv.store.users.get('5001'), 'signed by the site admin key');
  direct.run(plain.store, `INSERT INTO users (ext, site) VALUES ('5002', 'a')`);
  assert.is(recv.receiver.receive(plain.source.nextPush().batches[0]!.bytes).kind, 'applied');
  assert.not.ok(recv.store.users.get('5002'), 'no admin signature');
  assert.ok((recv.counters.rejectedBy.get('n3') ?? 0) > 0);
  // The same key does not make a box admin of another site.
  const other = replica('n5', 'b', admin.key);
  const recvB = replica('n6', 'b');
  recvB.store.sites.upsert({ id: 'a', name: '', adminPublicKey: admin.publicKey }, 1);
  introduce(recvB, other);
  direct.run(other.store, `INSERT INTO users (ext, site) VALUES ('5003', 'b')`);
  recvB.receiver.receive(other.source.nextPush().batches[0]!.bytes);
  assert.not.ok(recvB.store.users.get('5003'), 'site b has no admin key: the signature proves nothing');
});

test('the hub relays what it merged without reading it back, in its own version space', () => {
  const hub = replica('hub', '', undefined, 'hub');
  const n1 = replica('n1');
  const n2 = replica('n2');
  hub.directory.observe(n1.state(), Date.now());
  hub.receiver.stream('n1', 'own');
  n2.directory.observe(hub.state(), Date.now());
  for (let i = 0; i < 3; i++) {
    direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id, caller) VALUES (?, 'n1', 'x')`, `c${i}`);
    const got = hub.receiver.receive(n1.source.nextPush().batches[0]!.bytes);
    assert.is(got.kind, 'applied');
    if (got.kind !== 'applied') return;
    assert.is(got.range.after, hub.store.changes.head());
    const relayed = hub.source.relay(got.merged, got.range);
    assert.ok(relayed, 'everything before was published: relayed directly');
    assert.equal(relayed!.map((b) => b.topic), ['outpost/v1/hub/changes/site/a']);
    assert.is(n2.receiver.receive(relayed![0]!.bytes).kind, 'applied');
  }
  assert.equal(n2.store.digests(), hub.store.digests());
  assert.is(n2.store.changes.watermark('hub', 'site/a'), hub.store.changes.head());
  // Something the hub wrote itself and did not publish yet: relaying must wait for the push loop.
  direct.run(hub.store, `INSERT INTO users (ext, site) VALUES ('9001', 'a')`);
  direct.run(n1.store, `INSERT INTO cdrs (uuid, node_id) VALUES ('c9', 'n1')`);
  const got = hub.receiver.receive(n1.source.nextPush().batches[0]!.bytes);
  assert.ok(got.kind === 'applied' && hub.source.relay(got.merged, got.range) === undefined);
  for (const b of hub.source.nextPush().batches) n2.receiver.receive(b.bytes);
  assert.equal(n2.store.digests(), hub.store.digests());
});

test.run();
