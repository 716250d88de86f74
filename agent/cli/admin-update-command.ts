/**
 * `outpost admin update offer|status|cancel` (docs/cli/admin.md "Updates"): the admin ops
 * `update.*` (agent/admin/ops/update-ops.ts). `offer` names a bundle already in the hub's bundle
 * folder by its file name; the status lines are those of `outpost update status` at the hub.
 */
import type { Command } from 'commander';
import type { OfferTarget } from '../update/hub-offers.ts';
import { formatHubUpdateStatus, type HubUpdateStatus } from '../update/hub-update-status.ts';
import { CliError } from './cli-error.ts';

export type RunOp = (op: string, body: unknown, print?: (result: unknown) => void) => Promise<void>;

interface TargetOpts {
  fleet?: boolean;
  site?: string;
  node?: string;
}

function targetOf(o: TargetOpts): OfferTarget {
  const targets: OfferTarget[] = [];
  if (o.fleet) targets.push({ kind: 'fleet' });
  if (o.site !== undefined) targets.push({ kind: 'site', id: o.site });
  if (o.node !== undefined) targets.push({ kind: 'node', id: o.node });
  if (targets.length !== 1) throw new CliError('name one of --fleet, --site SITE or --node ID');
  return targets[0]!;
}

const withTarget = (c: Command): Command => c.option('--fleet', 'every box, one at a time in each site').option('--site <site>', 'the boxes of a site, one at a time').option('--node <id>', 'one box');

export function registerAdminUpdateCommands(admin: Command, run: RunOp, out: (line: string) => void): void {
  const update = admin.command('update').description("A/B updates: offer a bundle held by the hub, withdraw an offer, every box's state (docs/updates.md)");
  withTarget(update.command('offer <bundle>'))
    .option('--version <v>', 'the bundle\'s version (default: from a name outpost-ARCH-VERSION.raucb)')
    .description("offer a bundle already in the hub's bundle folder (by its file name)")
    .action((bundle: string, o: TargetOpts & { version?: string }) =>
      run('update.offer', { target: targetOf(o), bundle, ...(o.version !== undefined ? { version: o.version } : {}) }, (r) => {
        const x = r as { offer: string; version: string; bundle: string; size: number; sha256: string };
        out(`offered ${x.version} to ${x.offer}: ${x.bundle}, ${x.size} bytes, sha256 ${x.sha256}`);
      }));
  withTarget(update.command('cancel'))
    .description('withdraw the offer of the fleet, a site or a box: no new permits; boxes already installing finish')
    .action((o: TargetOpts) =>
      run('update.cancel', { target: targetOf(o) }, (r) => {
        const x = r as { offer: string; version: string };
        out(`withdrew the offer of ${x.version} to ${x.offer}`);
      }));
  update.command('status').description("offers, halted sites, every box's update state")
    .action(() => run('update.status', {}, (r) => {
      for (const line of formatHubUpdateStatus(r as HubUpdateStatus)) out(line);
    }));
}
