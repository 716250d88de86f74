/**
 * The hub's offers (hub-offers.ts) over a real cr-sqlite store and a real bundle folder: a
 * bundle's name is checked and its file hashed; an offer needs a known site or box; a withdrawn
 * offer leaves the rollout nothing to permit; pruning keeps the offered bundles and the newest
 * others.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../store/store.ts';
import { UpdateError } from './errors.ts';
import { bundleDir, bundleNameProblem, cancelOffer, importBundle, inspectBundle, offerVersion, pruneBundles, writeOffer } from './hub-offers.ts';
import { permitViews, rolloutPass } from './hub-rollout.ts';

interface World {
  dir: string;
  store: Store;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const failure = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, UpdateError);
    return (err as Error).message;
  }
  return 'no error';
};
function put(w: World, name: string, text = `bytes of ${name}`, mtimeS?: number): void {
  mkdirSync(bundleDir(w.dir), { recursive: true });
  writeFileSync(join(bundleDir(w.dir), name), text);
  if (mtimeS !== undefined) utimesSync(join(bundleDir(w.dir), name), mtimeS, mtimeS);
}

const names = suite('bundle names and versions');

names('a plain file name ending in .raucb; the version from outpost-ARCH-VERSION.raucb', () => {
  assert.is(bundleNameProblem('outpost-arm64-2.0.raucb'), undefined);
  assert.match(bundleNameProblem('../outpost-arm64-2.0.raucb') ?? '', /no path/);
  assert.match(bundleNameProblem('sub/x.raucb') ?? '', /no path/);
  assert.match(bundleNameProblem('outpost-arm64-2.0.tar') ?? '', /ends in \.raucb/);
  assert.is(offerVersion('outpost-arm64-2.0.raucb'), '2.0');
  assert.is(offerVersion('custom.raucb', '7.1'), '7.1');
  assert.throws(() => offerVersion('custom.raucb'), /cannot tell the version from custom\.raucb/);
});

const offers = suite<World>('offers at the hub');

offers.before.each((w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-hub-offers-'));
  w.store = Store.open({ dataDir: w.dir, durable: false });
  w.store.nodes.upsert({ id: 'a1', site: 'a', role: 'node', siteId: '01', publicKey: 'k1' }, 1);
  w.store.nodes.upsert({ id: 'a2', site: 'a', role: 'node', siteId: '02', publicKey: 'k2' }, 1);
});
offers.after.each((w) => {
  w.store.close();
  rmSync(w.dir, { recursive: true, force: true });
});

offers('inspectBundle hashes a bundle in the folder; refuses a bad name and a missing file', async (w) => {
  put(w, 'outpost-arm64-2.0.raucb', 'two');
  assert.equal(await inspectBundle(w.dir, 'outpost-arm64-2.0.raucb'), { name: 'outpost-arm64-2.0.raucb', size: 3, sha256: sha('two') });
  assert.match(await failure(() => inspectBundle(w.dir, 'outpost-arm64-3.0.raucb')), /^no bundle outpost-arm64-3\.0\.raucb in the hub's bundle folder/);
  assert.match(await failure(() => inspectBundle(w.dir, '../hub.yaml')), /no path/);
});

offers('importBundle copies a file in once; a different file of the same name is refused', async (w) => {
  const src = join(w.dir, 'outpost-arm64-2.0.raucb');
  writeFileSync(src, 'two');
  assert.equal(await importBundle(w.dir, src), { name: 'outpost-arm64-2.0.raucb', size: 3, sha256: sha('two'), copied: true });
  assert.is((await importBundle(w.dir, src)).copied, false);
  writeFileSync(src, 'other');
  assert.match(await failure(() => importBundle(w.dir, src)), /a different bundle named outpost-arm64-2\.0\.raucb is at the hub already/);
  assert.equal(readdirSync(bundleDir(w.dir)), ['outpost-arm64-2.0.raucb']);
});

offers('writeOffer for a site, a box or the fleet; an unknown site or box is refused and nothing is written', async (w) => {
  put(w, 'outpost-arm64-2.0.raucb', 'two');
  const bundle = await inspectBundle(w.dir, 'outpost-arm64-2.0.raucb');
  const base = { bundle, version: '2.0', setBy: 'ann', now: 5 };
  assert.equal(writeOffer(w.store, { ...base, target: { kind: 'site', id: 'a' } }), { scope: 'site:a', site: 'a', version: '2.0', bundle: bundle.name, sha256: sha('two'), size: 3, setBy: 'ann', setAt: 5 });
  assert.is(writeOffer(w.store, { ...base, target: { kind: 'node', id: 'a2' } }).site, 'a', 'a box\'s offer travels on its site');
  assert.is(writeOffer(w.store, { ...base, target: { kind: 'fleet' } }).site, '');
  assert.match(await failure(() => writeOffer(w.store, { ...base, target: { kind: 'site', id: 'b' } })), /^no site b known to this hub/);
  assert.match(await failure(() => writeOffer(w.store, { ...base, target: { kind: 'node', id: 'a9' } })), /^no box a9 known to this hub/);
  assert.equal(w.store.updates.offers().map((o) => o.scope), ['fleet', 'node:a2', 'site:a']);
});

offers('a withdrawn offer: the rollout sees no box and writes no permit; an unknown offer is refused', async (w) => {
  put(w, 'outpost-arm64-2.0.raucb');
  const bundle = await inspectBundle(w.dir, 'outpost-arm64-2.0.raucb');
  writeOffer(w.store, { target: { kind: 'site', id: 'a' }, bundle, version: '2.0', setBy: 'ann', now: 5 });
  assert.equal(rolloutPass(w.store, 6).permit.map((p) => p.node), ['a1']);
  w.store.updates.setState({ nodeId: 'a1', phase: 'committed', version: '2.0', running: '2.0', slot: 'B', targetSlot: 'B', error: '', at: 7 });
  assert.is(cancelOffer(w.store, { kind: 'site', id: 'a' }).version, '2.0');
  assert.equal(permitViews(w.store), [], 'no box has an offer');
  assert.equal(rolloutPass(w.store, 8).permit, [], 'a2 gets no permit');
  assert.match(await failure(() => cancelOffer(w.store, { kind: 'site', id: 'a' })), /^no offer for site:a \(offers: none\)/);
});

offers('pruneBundles keeps the offered bundles and the newest others, and leaves unfinished copies', (w) => {
  for (let i = 1; i <= 5; i++) put(w, `outpost-arm64-${i}.0.raucb`, `v${i}`, 1_000 + i);
  put(w, 'outpost-arm64-6.0.raucb.part', 'half');
  assert.equal(pruneBundles(w.dir, new Set(['outpost-arm64-1.0.raucb']), 2).sort(), ['outpost-arm64-2.0.raucb', 'outpost-arm64-3.0.raucb']);
  assert.equal(readdirSync(bundleDir(w.dir)).sort(), ['outpost-arm64-1.0.raucb', 'outpost-arm64-4.0.raucb', 'outpost-arm64-5.0.raucb', 'outpost-arm64-6.0.raucb.part']);
  assert.equal(pruneBundles(w.dir, new Set(), 0).sort(), ['outpost-arm64-1.0.raucb', 'outpost-arm64-4.0.raucb', 'outpost-arm64-5.0.raucb']);
});

names.run();
offers.run();
