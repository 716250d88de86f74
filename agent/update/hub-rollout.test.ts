/**
 * HubRollout (hub-rollout.ts) over a real store and bundle folder, driven by a ManualClock: its
 * housekeeping prunes the bundle folder at start and whenever the offers change (an offer made,
 * replaced or withdrawn), never on a pass where they did not, and keeps offered bundles.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { Store } from '../store/store.ts';
import { bundleDir } from './hub-offers.ts';
import { HubRollout } from './hub-rollout.ts';

const test = suite('HubRollout housekeeping');

test('prunes at start and when the offers change, keeping offered bundles and the newest others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-hub-rollout-'));
  const store = Store.open({ dataDir: dir, durable: false });
  const put = (name: string, mtimeS: number) => {
    writeFileSync(join(bundleDir(dir), name), name);
    utimesSync(join(bundleDir(dir), name), mtimeS, mtimeS);
  };
  const held = () => readdirSync(bundleDir(dir)).sort();
  try {
    mkdirSync(bundleDir(dir), { recursive: true });
    for (let i = 1; i <= 3; i++) put(`outpost-arm64-${i}.0.raucb`, 1000 + i);
    const clock = new ManualClock(0);
    const rollout = new HubRollout({ store, clock, logger: createSilentLogger(), bundles: { hubDataDir: dir, keep: 1 }, intervalMs: 2000 });
    rollout.start();
    assert.equal(held(), ['outpost-arm64-3.0.raucb'], 'at start: the newest of the unoffered bundles');

    put('outpost-arm64-4.0.raucb', 1004);
    put('outpost-arm64-5.0.raucb', 1005);
    clock.advance(2000);
    assert.equal(held().length, 3, 'offers unchanged: nothing pruned (a bundle just copied in waits for its offer)');

    store.updates.setOffer({ scope: 'fleet', site: '', version: '3.0', bundle: 'outpost-arm64-3.0.raucb', sha256: 'ab'.repeat(32), size: 1, setBy: 'ann', setAt: 1 });
    clock.advance(2000);
    assert.equal(held(), ['outpost-arm64-3.0.raucb', 'outpost-arm64-5.0.raucb'], 'an offer made: its bundle and the newest other');

    store.updates.removeOffer('fleet');
    clock.advance(2000);
    assert.equal(held(), ['outpost-arm64-5.0.raucb'], 'the offer withdrawn: its bundle is an old one now');
    rollout.stop();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
