/**
 * Ops `update.offer`, `update.status`, `update.cancel` (docs/updates.md "The admin API"): offers
 * of a bundle that is already in the hub's bundle folder (the bundle never travels over MQTT;
 * it is copied there with scp or `outpost update import`), through the same functions as
 * `outpost update offer` at the hub (agent/update/hub-offers.ts). The bundle is hashed before
 * the request's transaction (prepare), the offer written inside it.
 */
import { z } from 'zod';
import { DesiredScopeSchema } from '../../config/config-overlay.ts';
import { UpdateError } from '../../update/errors.ts';
import { cancelOffer, inspectBundle, offerVersion, writeOffer, type BundleFacts } from '../../update/hub-offers.ts';
import { hubUpdateStatus } from '../../update/hub-update-status.ts';
import { defineOp } from '../admin-op.ts';
import { problem } from '../errors.ts';

/** An UpdateError (a bad name, no such bundle, site or box) is a problem of the request. */
const translated = (err: unknown): unknown => (err instanceof UpdateError ? problem(err.message) : err);

function asProblem<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translated(err);
  }
}

const version = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._+~-]*$/, 'letters, digits and . _ + ~ - only');

export const updateOps = [
  defineOp({
    name: 'update.offer',
    summary: "offer a bundle already in the hub's bundle folder to the fleet, a site or a box",
    writes: true,
    schema: z.strictObject({ target: DesiredScopeSchema, bundle: z.string().min(1).max(200), version: version.optional() }),
    prepare: (ctx, b): Promise<BundleFacts> => inspectBundle(ctx.hubDataDir, b.bundle).catch((err: unknown) => Promise.reject(translated(err))),
    run(ctx, b, facts) {
      return asProblem(() => {
        const o = writeOffer(ctx.store, { target: b.target, bundle: facts, version: offerVersion(facts.name, b.version), setBy: ctx.actor, now: ctx.now });
        return { offer: o.scope, version: o.version, bundle: o.bundle, size: o.size, sha256: o.sha256 };
      });
    },
  }),
  defineOp({
    name: 'update.cancel',
    summary: 'withdraw the offer of the fleet, a site or a box: no new permit; boxes already installing finish',
    writes: true,
    schema: z.strictObject({ target: DesiredScopeSchema }),
    run(ctx, b) {
      return asProblem(() => {
        const o = cancelOffer(ctx.store, b.target);
        return { offer: o.scope, version: o.version, bundle: o.bundle };
      });
    },
  }),
  defineOp({
    name: 'update.status',
    summary: "offers, halted sites and every box's update state (site, running version, phase, error, since)",
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => hubUpdateStatus(ctx.store),
  }),
];
