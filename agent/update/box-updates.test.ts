import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { BoxUpdates } from './box-updates.ts';
import { rolloutPass } from './hub-rollout.ts';
import { boxUpdateCommands, type UpdateCommands } from './update-service.ts';

const SHA = 'cd'.repeat(32);

interface World {
  dir: string;
  store: Store;
  clock: ManualClock;
  log: string[];
  served: string;
}
const test = suite<World>('box update delivery (offers, permits, states in a real store)');

test.before.each((w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-box-updates-'));
  w.store = Store.open({ dataDir: join(w.dir, 'store') });
  w.clock = new ManualClock(2_000_000);
  w.log = [];
  w.served = SHA;
  for (const id of ['a1', 'a2']) w.store.nodes.upsert({ id, site: 'a', role: 'node', siteId: `${id}-site`, publicKey: `${id}-key` }, w.clock.now());
  w.store.updates.setOffer({ scope: 'site:a', site: 'a', version: '2.0', bundle: 'outpost-arm64-2.0.raucb', sha256: SHA, size: 10, setBy: 'test', setAt: w.clock.now() });
});
test.after.each((w) => {
  w.store.close();
  rmSync(w.dir, { recursive: true, force: true });
});

const fakeCommands = (w: World, node: string): UpdateCommands => ({
  download: async (url) => (w.log.push(`${node} download ${url}`), { file: join(w.dir, `${node}.raucb`), sha256: w.served }),
  install: async () => (w.log.push(`${node} install`), 'B'),
  reboot: async () => void w.log.push(`${node} reboot`),
});

function box(w: World, node: string, boot = { slot: 'A', version: '1.0' }, commands = fakeCommands(w, node)): BoxUpdates {
  const dataDir = join(w.dir, node);
  mkdirSync(dataDir, { recursive: true });
  return new BoxUpdates({ nodeId: node, site: 'a', dataDir, store: w.store, hubUrl: 'https://hub.test:8443/', tls: () => undefined, activeCalls: () => 0, clock: w.clock, logger: createSilentLogger(), commands, boot });
}

test('no permit, no download; the hub permits one box; the second only after the first committed', async (w) => {
  const a1 = box(w, 'a1');
  const a2 = box(w, 'a2');
  await a1.start();
  await a2.start();
  await a1.poll();
  await a2.poll();
  assert.equal(w.log, [], 'an offer without a permit starts nothing');
  assert.is(w.store.updates.state('a1')?.phase, 'idle');

  assert.equal(rolloutPass(w.store, w.clock.now()).permit.map((p) => p.node), ['a1']);
  await a1.poll();
  await a2.poll();
  assert.equal(w.log, ['a1 download https://hub.test:8443/v1/bundles/outpost-arm64-2.0.raucb', 'a1 install', 'a1 reboot']);
  assert.equal(w.store.updates.state('a1'), { nodeId: 'a1', phase: 'rebooting', version: '2.0', running: '1.0', slot: 'A', targetSlot: 'B', error: '', at: w.clock.now() });
  assert.equal(rolloutPass(w.store, w.clock.now()).permit, [], 'a1 in flight: a2 waits');
  // The reboot is slow to stop the process: its next polls give no verdict (it still runs slot A).
  w.clock.advance(3_000);
  await a1.poll();
  await a1.poll();
  assert.is(w.store.updates.state('a1')?.phase, 'rebooting', 'not rolled back by the process that asked for the reboot');

  // a1 comes up on slot B with 2.0 and its health check passed.
  a1.stop();
  w.clock.advance(60_000);
  writeFileSync(join(w.dir, 'a1', 'update', 'health.json'), JSON.stringify({ slot: 'B', version: '2.0', seconds: 30, at: new Date(w.clock.now()).toISOString(), result: 'good' }));
  const a1b = box(w, 'a1', { slot: 'B', version: '2.0' });
  await a1b.start();
  assert.is(w.store.updates.state('a1')?.phase, 'committed');
  assert.equal(rolloutPass(w.store, w.clock.now()).permit.map((p) => p.node), ['a2']);
  await a2.poll();
  assert.ok(w.log.includes('a2 reboot'));
  a1b.stop();
  a2.stop();
});

test('a bundle whose checksum differs is refused, not retried, and halts the site', async (w) => {
  w.served = 'ee'.repeat(32);
  const a1 = box(w, 'a1');
  await a1.start();
  rolloutPass(w.store, w.clock.now());
  await a1.poll();
  await a1.poll();
  assert.equal(w.log.filter((l) => l.includes('download')).length, 1, 'one download only');
  assert.not.ok(w.log.includes('a1 install'));
  const st = w.store.updates.state('a1')!;
  assert.is(st.phase, 'failed');
  assert.match(st.error, /^checksum mismatch/);
  const step = rolloutPass(w.store, w.clock.now());
  assert.equal(step.permit, []);
  assert.equal(step.halted, [{ site: 'a', node: 'a1', reason: 'failed on a1' }]);
  a1.stop();
});

test('without rauc the install fails as "rauc not installed", once', async (w) => {
  const real = boxUpdateCommands(join(w.dir, 'a1'), () => undefined, { OUTPOST_UPDATE_RAUC: join(w.dir, 'no-such-rauc') });
  const a1 = box(w, 'a1', undefined, { ...fakeCommands(w, 'a1'), install: real.install });
  await a1.start();
  rolloutPass(w.store, w.clock.now());
  await a1.poll();
  await a1.poll();
  await a1.poll();
  assert.equal(w.log, ['a1 download https://hub.test:8443/v1/bundles/outpost-arm64-2.0.raucb']);
  assert.equal([w.store.updates.state('a1')?.phase, w.store.updates.state('a1')?.error], ['failed', 'install: rauc not installed']);
  a1.stop();
});

test.run();
