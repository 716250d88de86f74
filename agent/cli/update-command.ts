/**
 * `outpost update status|offer` (docs/cli/update.md). On a box, `status` shows the version it
 * runs, the last health check's verdict and its last update (agent/update/update-report.ts); at
 * the hub it lists the offers and every box's reported update state. `offer` (hub) copies a
 * bundle into the hub's bundle folder, hashes it and writes the offer for a box, a site or the
 * fleet; the hub's rollout then permits one box of a site at a time (docs/updates.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import type { HubConfig } from '../config/hub-schema.ts';
import type { Store } from '../store/store.ts';
import { UpdateError } from '../update/errors.ts';
import { importBundle, offerVersion, writeOffer, type OfferTarget } from '../update/hub-offers.ts';
import { formatHubUpdateStatus, hubUpdateStatus } from '../update/hub-update-status.ts';
import { updateReport } from '../update/update-report.ts';
import { CliError } from './cli-error.ts';
import { withStore } from './user-command.ts';

const RELEASE_FILE = '/etc/outpost-release';

/** The lines `update status` prints at the hub. */
export function hubUpdateReport(store: Store): string[] {
  return formatHubUpdateStatus(hubUpdateStatus(store));
}

/** The hub's config, or a CliError naming the command that needs it. */
function hubConfig(file: string, what: string): HubConfig {
  const any = loadAnyConfig(file);
  if (any.kind !== 'hub') throw new CliError(`${what} writes at the hub: run it with the hub's config, not ${file}`);
  return any.config;
}

/** An UpdateError becomes the CLI's error (exit 1) with its message. */
async function asCli<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UpdateError) throw new CliError(err.message);
    throw err;
  }
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
      const config = hubConfig(opts.config, 'update offer');
      const targets: OfferTarget[] = [];
      if (opts.site !== undefined) targets.push({ kind: 'site', id: opts.site });
      if (opts.node !== undefined) targets.push({ kind: 'node', id: opts.node });
      if (opts.fleet) targets.push({ kind: 'fleet' });
      if (targets.length !== 1) throw new CliError('name one of --site S, --node ID or --fleet');
      await asCli(async () => {
        if (!existsSync(bundle)) throw new UpdateError('update.bundle', `no bundle file ${bundle}`);
        const version = offerVersion(basename(bundle), opts.version);
        const facts = await importBundle(config.dataDir, bundle);
        withStore(config.dataDir, {}, (store) => {
          const o = writeOffer(store, { target: targets[0]!, bundle: facts, version, setBy: userInfo().username, now: Date.now() });
          out(`offered ${version} to ${o.scope}: ${o.bundle}, ${o.size} bytes, sha256 ${o.sha256}`);
        });
      });
    });
  update
    .command('import <bundle>')
    .description("copy a bundle into the hub's bundle folder without offering it (then: outpost admin update offer NAME ...)")
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action(async (bundle: string, opts: { config: string }) => {
      const config = hubConfig(opts.config, 'update import');
      const facts = await asCli(() => importBundle(config.dataDir, bundle));
      out(`${facts.copied ? 'imported' : 'already held'} ${facts.name}: ${facts.size} bytes, sha256 ${facts.sha256}`);
    });
}
