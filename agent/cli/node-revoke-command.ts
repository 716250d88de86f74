/**
 * `outpost node revoke ID --config HUBFILE`: revokes every certificate the hub's CA issued for
 * box ID, by writing their serials into `node_revocations` (admin-owned, replicated to every
 * replica and signed by the hub like every admin change). Each replica then refuses them: at its
 * broker, in states, batches and catch-up requests (agent/trust/revocation.ts,
 * docs/cli/node-revoke.md). Its `nodes` row and pinned key stay (history; CDRs still name it).
 */
import type { Command } from 'commander';
import { revokeIssued } from '../admin/revoke-issued.ts';
import { CliError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { withStore } from './user-command.ts';

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export { revokeIssued, type RevokeOutcome } from '../admin/revoke-issued.ts';

export function checkNodeId(id: string): void {
  if (!NODE_ID.test(id)) throw new CliError(`invalid node id "${id}": use 1-63 lowercase letters, digits or dashes`);
}

export function registerNodeRevokeCommand(node: Command, out: (line: string) => void): void {
  node
    .command('revoke <id>')
    .description("revoke every certificate issued for box <id>: every replica refuses it (run with the hub's config)")
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((id: string, opts: { config: string }) => {
      checkNodeId(id);
      const target = loadCliTarget(opts.config);
      if (target.kind !== 'hub') throw new CliError(`certificates are revoked at the hub: run this command with the hub's config, not ${target.file}`);
      if (id === target.nodeId) throw new CliError(`${id} is the hub itself; its certificate cannot be revoked`);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const r = revokeIssued(store, target.dataDir, id, Date.now());
        for (const serial of r.revoked) out(`revoked certificate ${serial} of box ${id}`);
        if (r.revoked.length === 0) out(`box ${id}: its ${r.already} certificate(s) were already revoked`);
        else out(`box ${id} is refused on every replica once the revocation reaches it; re-admit it with: outpost node replace ${id}`);
      });
    });
}
