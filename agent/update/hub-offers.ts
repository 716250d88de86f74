/**
 * The hub's offers (docs/updates.md): the one code path that places a bundle in the hub's bundle
 * folder, inspects it (name, size, sha256) and writes, or withdraws, the replicated offer of a
 * scope (`fleet`, `site:<id>`, `node:<id>`). `outpost update offer|import` (the hub's shell) and
 * the admin ops `update.offer|cancel` (agent/admin/ops/update-ops.ts) both call these. Also the
 * folder's housekeeping: bundles no offer names are kept up to a number, newest first.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Store } from '../store/store.ts';
import type { UpdateOfferRecord } from '../store/update-offers.ts';
import { BUNDLE_DIR, BUNDLE_NAME } from './bundle-route.ts';
import { UpdateError } from './errors.ts';

export const BUNDLE_SUFFIX = '.raucb';

/** Whom an offer is for: every box, the boxes of a site, or one box. */
export type OfferTarget = { kind: 'fleet' } | { kind: 'site'; id: string } | { kind: 'node'; id: string };

/** A bundle in the hub's folder, as an offer names it. */
export interface BundleFacts {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export const bundleDir = (hubDataDir: string): string => join(hubDataDir, BUNDLE_DIR);
export const targetKey = (t: OfferTarget): string => (t.kind === 'fleet' ? 'fleet' : `${t.kind}:${t.id}`);

/** Why `name` cannot name a bundle, or undefined: a plain file name ending in .raucb. */
export function bundleNameProblem(name: string): string | undefined {
  if (!BUNDLE_NAME.test(name)) return `bundle "${name}": a file name of letters, digits, dots, dashes, pluses and underscores (no path)`;
  if (!name.endsWith(BUNDLE_SUFFIX)) return `bundle "${name}": a bundle's name ends in ${BUNDLE_SUFFIX}`;
  return undefined;
}

/** The version an offer of `name` announces: the one given, else VERSION of outpost-ARCH-VERSION.raucb. */
export function offerVersion(name: string, given?: string): string {
  const version = given ?? /^outpost-[^-]+-(.+)\.raucb$/.exec(name)?.[1];
  if (!version) throw new UpdateError('update.offer', `cannot tell the version from ${name}: give the version`);
  return version;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The facts of bundle `name` in the hub's folder; UpdateError when the name is bad or no such file is there. */
export async function inspectBundle(hubDataDir: string, name: string): Promise<BundleFacts> {
  const problem = bundleNameProblem(name);
  if (problem) throw new UpdateError('update.bundle', problem);
  const file = join(bundleDir(hubDataDir), name);
  let size: number | undefined;
  try {
    const st = statSync(file);
    if (st.isFile()) size = st.size;
  } catch {
    // Missing: refused below.
  }
  if (size === undefined) throw new UpdateError('update.bundle', `no bundle ${name} in the hub's bundle folder ${bundleDir(hubDataDir)} (copy it there, or outpost update import FILE at the hub)`);
  return { name, size, sha256: await sha256Of(file) };
}

/** Copies `file` into the hub's folder under its own name (unless the same bytes are there already); returns its facts. */
export async function importBundle(hubDataDir: string, file: string): Promise<BundleFacts & { copied: boolean }> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UpdateError('update.bundle', `no bundle file ${file}`);
  const name = basename(file);
  const problem = bundleNameProblem(name);
  if (problem) throw new UpdateError('update.bundle', problem);
  const sha256 = await sha256Of(file);
  const dir = bundleDir(hubDataDir);
  const target = join(dir, name);
  if (existsSync(target)) {
    if ((await sha256Of(target)) !== sha256) throw new UpdateError('update.bundle', `a different bundle named ${name} is at the hub already: give this one another name`);
    return { name, size: statSync(target).size, sha256, copied: false };
  }
  mkdirSync(dir, { recursive: true });
  copyFileSync(file, `${target}.part`);
  renameSync(`${target}.part`, target);
  return { name, size: statSync(target).size, sha256, copied: true };
}

/** The site an offer's row travels on; UpdateError for a site or box the hub does not know. */
function siteOf(store: Store, target: OfferTarget): string {
  if (target.kind === 'fleet') return '';
  if (target.kind === 'node') {
    const node = store.nodes.get(target.id);
    if (!node || node.role === 'hub') throw new UpdateError('update.target', `no box ${target.id} known to this hub`);
    return node.site;
  }
  const known = store.sites.get(target.id) !== undefined || store.nodes.list().some((n) => n.site === target.id && n.role !== 'hub');
  if (!known) throw new UpdateError('update.target', `no site ${target.id} known to this hub (no site row and no box of it)`);
  return target.id;
}

/** Writes (or replaces) the offer of `target` for an inspected bundle; synchronous, so it fits in one store transaction. */
export function writeOffer(store: Store, o: { target: OfferTarget; bundle: BundleFacts; version: string; setBy: string; now: number }): UpdateOfferRecord {
  const record: UpdateOfferRecord = { scope: targetKey(o.target), site: siteOf(store, o.target), version: o.version, bundle: o.bundle.name, sha256: o.bundle.sha256, size: o.bundle.size, setBy: o.setBy, setAt: o.now };
  store.updates.setOffer(record);
  return record;
}

/** Withdraws the offer of `target`: the hub writes no new permit for it; boxes already in flight finish. */
export function cancelOffer(store: Store, target: OfferTarget): UpdateOfferRecord {
  const key = targetKey(target);
  const offer = store.updates.offer(key);
  if (!offer) throw new UpdateError('update.target', `no offer for ${key} (offers: ${store.updates.offers().map((x) => x.scope).join(', ') || 'none'})`);
  store.updates.removeOffer(key);
  return offer;
}

/**
 * Deletes the bundles of the hub's folder that no offer names, except the `keep` newest (by
 * modification time); returns the names deleted. Unfinished copies (`*.part`) are left alone.
 */
export function pruneBundles(hubDataDir: string, offered: ReadonlySet<string>, keep: number): string[] {
  const dir = bundleDir(hubDataDir);
  if (!existsSync(dir)) return [];
  const spare = readdirSync(dir)
    .filter((f) => f.endsWith(BUNDLE_SUFFIX) && !offered.has(f))
    .map((f) => ({ f, at: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at || a.f.localeCompare(b.f));
  const gone = spare.slice(keep).map((x) => x.f);
  for (const f of gone) rmSync(join(dir, f), { force: true });
  return gone;
}
