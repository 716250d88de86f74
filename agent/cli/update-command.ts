/**
 * `outpost update status|offer` (docs/cli/update.md). On a box, `status` shows the version it
 * runs, the last health check's verdict and its last update (agent/update/update-report.ts); at
 * the hub it lists the offers and every box's reported update state. `offer` (hub) copies a
 * bundle into the hub's bundle folder, hashes it and writes the offer for a box, a site or the
 * fleet; the hub's rollout then permits one box of a site at a time (docs/updates.md).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import type { Store } from '../store/store.ts';
import { BUNDLE_DIR, BUNDLE_NAME } from '../update/bundle-route.ts';
import { permitViews } from '../update/hub-rollout.ts';
import { nextPermits } from '../update/rollout.ts';
import { updateReport } from '../update/update-report.ts';
import { CliError } from './cli-error.ts';
import { withStore } from './user-command.ts';

const RELEASE_FILE = '/etc/outpost-release';

/** The lines `update status` prints at the hub. */
export function hubUpdateReport(store: Store): string[] {
  const lines: string[] = [];
  const offers = store.updates.offers();
  for (const o of offers) lines.push(`offer  ${o.scope} ${o.version} (${o.bundle}, ${o.size} bytes, sha256 ${o.sha256.slice(0, 12)}…), set by ${o.setBy} at ${new Date(o.setAt).toISOString()}`);
  if (offers.length === 0) lines.push('offer  none');
  for (const h of nextPermits(permitViews(store)).halted) lines.push(`halted site ${h.site}: ${h.reason}`);
  const boxes = store.nodes.list().filter((n) => n.role !== 'hub');
  if (boxes.length === 0) lines.push('box    none known to this hub yet');
  for (const n of boxes) {
    const s = store.updates.state(n.id);
    const permit = store.updates.permit(n.id);
    const perm = permit ? `, permitted ${permit.version}` : '';
    if (!s) {
      lines.push(`box    ${n.id} (site ${n.site}): not reported${perm}`);
      continue;
    }
    const about = s.version ? ` ${s.version}` : '';
    const err = s.error ? ` (${s.error})` : '';
    lines.push(`box    ${n.id} (site ${n.site}): ${s.phase}${about}, runs ${s.running} on slot ${s.slot}${perm}, since ${new Date(s.at).toISOString()}${err}`);
  }
  return lines;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

interface OfferOpts {
  config: string;
  site?: string;
  node?: string;
  fleet?: boolean;
  version?: string;
}

export function registerUpdateCommands(program: Command, out: (line: string) => void): void {
  const update = program.command('update').description('A/B updates: a box\'s state, offers from the hub (docs/updates.md)');
  update
    .command('status')
    .description("on a box: its version, last health check and last update; at the hub: offers and every box's update state")
    .requiredOption('-c, --config <file>', "the box's or the hub's config file")
    .action((opts: { config: string }) => {
      const any = loadAnyConfig(opts.config);
      if (any.kind === 'hub') {
        withStore(any.config.dataDir, { mustExist: true }, (store) => {
          for (const line of hubUpdateReport(store)) out(line);
        });
        return;
      }
      const release = existsSync(RELEASE_FILE) ? readFileSync(RELEASE_FILE, 'utf8') : undefined;
      for (const line of updateReport(any.config.dataDir, release)) out(line);
    });
  update
    .command('offer <bundle>')
    .description('offer a bundle to a box, a site or the fleet (at the hub)')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .option('--site <id>', 'every box of this site, one at a time')
    .option('--node <id>', 'this box')
    .option('--fleet', 'every box, one at a time in each site')
    .option('--version <v>', 'the bundle\'s version (default: from a name outpost-arm64-VERSION.raucb)')
    .action(async (bundle: string, opts: OfferOpts) => {
      const any = loadAnyConfig(opts.config);
      if (any.kind !== 'hub') throw new CliError(`update offer writes at the hub: run it with the hub's config, not ${opts.config}`);
      const scopes = [opts.site, opts.node, opts.fleet].filter((x) => x !== undefined && x !== false);
      if (scopes.length !== 1) throw new CliError('name one of --site S, --node ID or --fleet');
      if (!existsSync(bundle) || !statSync(bundle).isFile()) throw new CliError(`no bundle file ${bundle}`);
      const name = basename(bundle);
      if (!BUNDLE_NAME.test(name)) throw new CliError(`${name}: a bundle's file name has letters, digits, dots, dashes, pluses and underscores only`);
      const version = opts.version ?? /^outpost-[^-]+-(.+)\.raucb$/.exec(name)?.[1];
      if (!version) throw new CliError(`cannot tell the version from ${name}: give --version`);
      const dataDir = any.config.dataDir;
      const sha256 = await sha256Of(bundle);
      const size = statSync(bundle).size;
      const held = join(dataDir, BUNDLE_DIR, name);
      if (existsSync(held) && (await sha256Of(held)) !== sha256) throw new CliError(`a different bundle named ${name} is at the hub already: give this one another name`);
      withStore(dataDir, {}, (store) => {
        let scope = 'fleet';
        let site = '';
        if (opts.site !== undefined) {
          scope = `site:${opts.site}`;
          site = opts.site;
        } else if (opts.node !== undefined) {
          const node = store.nodes.get(opts.node);
          if (!node) throw new CliError(`no box ${opts.node} known to this hub`);
          scope = `node:${opts.node}`;
          site = node.site;
        }
        const dir = join(dataDir, BUNDLE_DIR);
        mkdirSync(dir, { recursive: true });
        const target = join(dir, name);
        if (!existsSync(target)) {
          copyFileSync(bundle, `${target}.part`);
          renameSync(`${target}.part`, target);
        }
        store.updates.setOffer({ scope, site, version, bundle: name, sha256, size, setBy: userInfo().username, setAt: Date.now() });
        out(`offered ${version} to ${scope}: ${name}, ${size} bytes, sha256 ${sha256}`);
      });
    });
}
