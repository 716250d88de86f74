/**
 * The Replicator shell on a real MQTT broker (aedes on 127.0.0.1, port 0) with real stores:
 * the commands of its core become connects, publishes and pushes, and messages come back as
 * events. The protocol itself is tested on the core (replication-core.test.ts).
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SyncSection } from '../config/sync-schema.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import { silentBroker } from '../../test/helpers/silent-broker.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { NodeKey } from './node-key.ts';
import { Replicator, type ReplicatorOptions } from './replicator.ts';
import { syncStatus } from './sync-status.ts';
import { topics } from '../wire/topics.ts';

interface World {
  url: string;
  close: () => Promise<void>;
  stores: TempStores;
}

const sync = SyncSection.parse({ antiEntropy: 1 });

async function broker(): Promise<World> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const world: World = {
    url: `mqtt://127.0.0.1:${port}`,
    stores: new TempStores(),
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      world.stores.closeAll();
    },
  };
  return world;
}

function replicator(world: World, o: Pick<ReplicatorOptions, 'role' | 'nodeId' | 'site'> & Partial<ReplicatorOptions>): Replicator {
  const { store, dir } = world.stores.open(`replicator-${o.nodeId}`);
  return new Replicator({ store, key: NodeKey.loadOrCreate(dir), sync, logger: createSilentLogger(), ...o });
}

const test = suite('Replicator');

test('a box and its hub connect, exchange states, and a commit on the box reaches the hub', async () => {
  const world = await broker();
  const hub = replicator(world, { role: 'hub', nodeId: 'hub', site: '', ownBrokerUrl: world.url });
  let applied = 0;
  const n1 = replicator(world, { role: 'node', nodeId: 'n1', site: 's1', hub: { url: world.url, id: 'hub' }, onApplied: () => applied++ });
  try {
    hub.start();
    n1.start();
    await waitFor(() => hub.directory.get('n1')?.online && n1.isConnectedTo('hub'), 'states exchanged');
    await n1.options.store.writes.submit(() => n1.options.store.bans.upsert({ ip: '10.0.0.9', nodeId: 'n1', reason: 'test', until: 9e12, createdAt: 1 }));
    const banned = n1.options.store.changes.head();
    await waitFor(() => hub.options.store.bans.active(0).length === 1, 'the ban on the hub');
    const status = syncStatus(hub);
    assert.equal(status.links.map((l) => [l.name, l.connected]), [['self', true]]);
    const peer = status.peers.find((p) => p.nodeId === 'n1')!;
    assert.ok(peer.connected);
    assert.ok(BigInt(peer.streams[0]!.watermark) >= banned, 'the watermark passed the ban');
    // The hub records the box in `nodes`, which replicates back to the box.
    await waitFor(() => n1.options.store.nodes.get('n1') !== undefined, 'n1 in nodes on n1');
    assert.ok(applied > 0, 'the box reported its merges');
    await n1.stop();
    await waitFor(() => hub.directory.get('n1')?.online === false, 'the offline state on the hub');
  } finally {
    await n1.stop();
    await hub.stop();
    await world.close();
  }
});

test('a box whose hub goes silent keeps pushing each commit to its own broker (the stalled hub link is skipped)', async () => {
  const hubBroker = await silentBroker();
  const own = await silentBroker();
  const stores = new TempStores();
  const { store, dir } = stores.open('replicator-stall');
  const n1 = new Replicator({
    role: 'node', nodeId: 'n1', site: 's1', hub: { url: hubBroker.url, id: 'hub' }, ownBrokerUrl: own.url,
    store, key: NodeKey.loadOrCreate(dir), sync: SyncSection.parse({ maxInFlight: 2 }), linkStallMs: 200, logger: createSilentLogger(),
  });
  const peer = mqtt.connect(own.url, { protocolVersion: 4, reconnectPeriod: 0 });
  let batches = 0;
  peer.on('message', () => batches++);
  try {
    await new Promise<void>((resolve) => peer.once('connect', () => peer.subscribe(topics.nodeChanges('n1'), { qos: 1 }, () => resolve())));
    n1.start();
    const linksUp = () => syncStatus(n1).links.every((l) => l.connected) && syncStatus(n1).links.length === 2;
    await waitFor(linksUp, 'the hub and own-broker links up');
    hubBroker.silent = true;
    for (let i = 1; i <= 6; i++) {
      const seen = batches;
      await store.writes.submit(() => store.bans.upsert({ ip: `10.0.0.${i}`, nodeId: 'n1', reason: 'test', until: 9e12, createdAt: i }));
      // The hub link is full after two; without skipping it, this waits for the MQTT keep-alive (15 s).
      await waitFor(() => batches > seen, `commit ${i} on the own broker`, 3_000, 5);
    }
    assert.ok(linksUp(), 'the silent hub link still looks connected');
  } finally {
    peer.end(true);
    await n1.stop();
    await hubBroker.close();
    await own.close();
    stores.closeAll();
  }
});

test.run();
