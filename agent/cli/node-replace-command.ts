/**
 * `outpost node replace ID --config HUBFILE`: the admin's consent, at the hub, to a box rebuilt
 * under the same id with a new key. It records in `node_rekeys` (admin-owned, replicated
 * to every replica, signed by the hub as every admin change) the key the hub pinned for ID; each
 * replica then pins the next other key ID announces in place of that one, once
 * (agent/sync/key-pinning.ts). Without it the new key stays refused.
 */
import type { Command } from 'commander';
import { keyFingerprint } from '../sync/key-pinning.ts';
import { CliError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { withStore } from './user-command.ts';

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function registerNodeReplaceCommand(node: Command, out: (line: string) => void): void {
  node
    .command('replace <id>')
    .description("let the next new key announced for box <id> (rebuilt with an empty dataDir) be pinned everywhere (run with the hub's config)")
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((id: string, opts: { config: string }) => {
      if (!NODE_ID.test(id)) throw new CliError(`invalid node id "${id}": use 1-63 lowercase letters, digits or dashes`);
      const target = loadCliTarget(opts.config);
      if (target.kind !== 'hub') throw new CliError(`node keys are replaced at the hub: run this command with the hub's config, not ${target.file}`);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const node = store.nodes.get(id);
        if (!node || node.role !== 'node' || node.publicKey === '') throw new CliError(`the hub knows no box ${id}: a box that never joined needs no replacement`);
        store.nodes.requestReplacement(id, node.publicKey, Date.now());
        out(`box ${id}: the next new key it announces replaces ${keyFingerprint(node.publicKey)} on every replica`);
      });
    });
}
