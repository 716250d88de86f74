/**
 * Ops `config.set` and `config.status` (docs/config-push.md): the desired config of the fleet, a
 * site or a box, validated whole against the box schema by agent/control/desired-config.ts, and
 * what each box reports back. An invalid document changes nothing and lists every problem.
 */
import { z } from 'zod';
import { DesiredScopeSchema } from '../../config/config-overlay.ts';
import { configStatus, setDesired } from '../../control/desired-config.ts';
import { defineOp } from '../admin-op.ts';
import { AdminError } from '../errors.ts';

export const configOps = [
  defineOp({
    name: 'config.set',
    summary: 'set the desired config document (sections of the box config) of the fleet, a site or a box',
    writes: true,
    schema: z.strictObject({ scope: DesiredScopeSchema, document: z.union([z.record(z.string(), z.unknown()), z.string().max(200_000)]) }),
    run(ctx, b) {
      const r = setDesired(ctx.store, b.scope, b.document, ctx.actor, { now: () => ctx.now });
      if (!r.ok) throw new AdminError('admin.invalid', r.problems);
      return { version: r.version };
    },
  }),
  defineOp({
    name: 'config.status',
    summary: 'desired config versus what each box reports (applied, waiting for a restart, problems)',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => ({ documents: ctx.store.desiredConfigs.list(), boxes: configStatus(ctx.store) }),
  }),
];
