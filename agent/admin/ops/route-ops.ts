/** Ops `route.add`, `route.remove`, `route.list`: the dial plan, as `outpost route` (agent/cli/route-command.ts). */
import { z } from 'zod';
import { uuidv7 } from '../../lib/uuid.ts';
import { compilePattern } from '../../switch/calls/dial-plan.ts';
import { patternProblem } from '../../switch/calls/route-pattern.ts';
import { defineOp, siteId } from '../admin-op.ts';
import { problem } from '../errors.ts';

const PRIORITY_LIMIT = 1_000_000;

const pattern = z.string().max(64).superRefine((p, ctx) => {
  if (!compilePattern(p)) ctx.addIssue({ code: 'custom', message: `invalid pattern "${p}": ${patternProblem(p) ?? 'not a dial pattern'}` });
});

export const routeOps = [
  defineOp({
    name: 'route.add',
    summary: 'add a route, or replace the route with the same id',
    writes: true,
    schema: z
      .strictObject({
        pattern,
        action: z.enum(['extension', 'trunk', 'reject']).default('extension'),
        target: z.string().max(64).default(''),
        priority: z.number().int().min(-PRIORITY_LIMIT).max(PRIORITY_LIMIT).default(100),
        strip: z.number().int().min(0).max(64).default(0),
        prefix: z.string().regex(/^[0-9*#+]{0,32}$/, 'digits, * # + only').default(''),
        id: z.string().min(1).max(64).optional(),
        site: siteId.or(z.literal('')).default(''),
      })
      .refine((r) => r.action !== 'trunk' || r.target !== '', { message: 'action trunk needs a target (a trunk id)', path: ['target'] }),
    run(ctx, b) {
      const id = b.id ?? uuidv7();
      // In the same request a trunk may be added before its route; otherwise it must exist.
      if (b.action === 'trunk' && ctx.store.trunks.get(b.target) === undefined) throw problem(`route ${b.pattern}: no trunk ${b.target} (add it first, or in the same batch)`);
      ctx.store.routes.upsert({ id, pattern: b.pattern, priority: b.priority, action: b.action, target: b.target, strip: b.strip, prefix: b.prefix, site: b.site, enabled: true }, ctx.now);
      return { id };
    },
  }),
  defineOp({
    name: 'route.remove',
    summary: 'remove a route by id',
    writes: true,
    schema: z.strictObject({ id: z.string().min(1).max(64) }),
    run(ctx, b) {
      if (!ctx.store.routes.remove(b.id)) throw problem(`no route ${b.id}`);
      return { id: b.id };
    },
  }),
  defineOp({
    name: 'route.list',
    summary: 'list routes in the order they are tried',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => ctx.store.routes.list(),
  }),
];
