/**
 * `outpost node replace ID --config HUBFILE`: the admin's consent, at the hub, to a box rebuilt
 * under the same id (docs/cli/node-replace.md).
 *
 * - Secure mode (the hub's CA issued certificates for ID): makes a claim code bound to ID and
 *   its site (as `enrol create --node ID`), and revokes the old certificates at once
 *   (node-revoke-command.ts): the old box, gone or stolen, is refused from now on; the rebuilt
 *   box enrols with the code and its new certificate (a new serial) is believed everywhere.
 * - Both modes: records in `node_rekeys` (admin-owned, replicated, signed by the hub) the key the
 *   hub pinned for ID; each replica without a CA (insecure dev mode) then pins the next other key
 *   ID announces in place of that one, once (agent/sync/key-pinning.ts).
 */
import type { Command } from 'commander';
import { keyFingerprint } from '../sync/key-pinning.ts';
import { ClaimBook, createClaim } from '../trust/claim-book.ts';
import { formatClaimCode } from '../trust/claim-code.ts';
import { parseTtl } from '../trust/claim-rules.ts';
import { issuedCertificates } from '../trust/issued-certificates.ts';
import { CliError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { checkNodeId, revokeIssued } from './node-revoke-command.ts';
import { readRuntimeInfo } from './runtime-file.ts';
import { withStore } from './user-command.ts';

export function registerNodeReplaceCommand(node: Command, out: (line: string) => void): void {
  node
    .command('replace <id>')
    .description("let box <id> rebuilt with an empty dataDir back in: a claim code for it and its old certificates revoked (run with the hub's config)")
    .option('--ttl <ttl>', 'how long the claim code is valid: 30m, 24h, 7d (secure mode)', '24h')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((id: string, opts: { config: string; ttl: string }) => {
      checkNodeId(id);
      const ttlMs = parseTtl(opts.ttl);
      const target = loadCliTarget(opts.config);
      if (target.kind !== 'hub') throw new CliError(`node keys are replaced at the hub: run this command with the hub's config, not ${target.file}`);
      if (id === target.nodeId) throw new CliError(`${id} is the hub itself, not a box`);
      const issued = issuedCertificates(target.dataDir, id);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const node = store.nodes.get(id);
        const known = node !== undefined && node.role === 'node' && node.publicKey !== '';
        if (!known && issued.length === 0) throw new CliError(`the hub knows no box ${id}: a box that never joined needs no replacement`);
        const now = Date.now();
        if (known) {
          store.nodes.requestReplacement(id, node.publicKey, now);
          out(`box ${id}: the next new key it announces replaces ${keyFingerprint(node.publicKey)} on every replica`);
        }
        if (issued.length === 0) return;
        const site = issued[issued.length - 1]!.site;
        const { code, claim } = createClaim(new ClaimBook(target.dataDir), { site, nodeId: id, ttlMs, now });
        const text = formatClaimCode(code);
        out(`claim code ${text} (id ${claim.id}) for site ${site}, box ${id}`);
        out(`expires ${new Date(claim.expiresAt).toISOString()} (in ${opts.ttl}); it enrols one box`);
        const running = readRuntimeInfo(target.dataDir)?.enrol;
        out(`on the rebuilt box: outpost enrol join --hub ${running ?? 'https://HUB:PORT'} --claim ${text} --config BOX.yaml`);
        const r = revokeIssued(store, target.dataDir, id, now);
        out(`revoked ${r.revoked.length} old certificate(s) of box ${id}${r.already > 0 ? ` (${r.already} already revoked)` : ''}`);
      });
    });
}
