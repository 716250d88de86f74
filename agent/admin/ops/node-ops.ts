/**
 * Ops `node.list`, `node.revoke` and `admin.revoke`: the fleet's nodes with their state (online
 * as the hub's replication sees it, revoked), and revocation by the code `outpost node revoke`
 * uses (every certificate issued for the id goes into `node_revocations`, which replicates). An
 * admin is revoked the same way; the hub then refuses its requests and its broker its connection.
 */
import { z } from 'zod';
import { revokeIssued } from '../revoke-issued.ts';
import { issuedAdminCertificates, issuedCertificates } from '../../trust/issued-certificates.ts';
import { defineOp, siteId } from '../admin-op.ts';
import { problem } from '../errors.ts';

export const nodeOps = [
  defineOp({
    name: 'node.list',
    summary: 'list the nodes the hub knows, with their state',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) =>
      ctx.store.nodes.list().map((n) => {
        // Revoked when its latest certificate is (a replaced box has a newer, good one).
        const latest = issuedCertificates(ctx.hubDataDir, n.id).at(-1);
        const revoked = latest !== undefined && ctx.store.revocations.get(latest.serial) !== undefined;
        const online = ctx.nodeOnline(n.id);
        return { id: n.id, site: n.site, role: n.role, state: revoked ? 'revoked' : online === undefined ? 'unknown' : online ? 'online' : 'offline', firstSeen: n.firstSeen, updatedAt: n.updatedAt };
      }),
  }),
  defineOp({
    name: 'node.revoke',
    summary: 'revoke every certificate issued for a box',
    writes: true,
    schema: z.strictObject({ id: siteId }),
    run(ctx, b) {
      const r = revokeIssued(ctx.store, ctx.hubDataDir, b.id, ctx.now);
      return { id: b.id, revoked: r.revoked, already: r.already };
    },
  }),
  defineOp({
    name: 'admin.revoke',
    summary: "revoke every certificate issued for an admin: the hub refuses its requests",
    writes: true,
    schema: z.strictObject({ name: siteId }),
    run(ctx, b) {
      const certs = issuedAdminCertificates(ctx.hubDataDir, b.name);
      if (certs.length === 0) throw problem(`the hub's CA issued no admin certificate for ${b.name}`);
      const revoked = certs.filter((c) => ctx.store.revocations.revoke(c.serial, b.name, ctx.now)).map((c) => c.serial.toLowerCase());
      return { name: b.name, revoked };
    },
  }),
];

