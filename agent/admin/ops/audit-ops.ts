/**
 * Op `audit.list`: the hub's audit trail of admin requests (docs/security.md "Audit trail"),
 * newest first, filtered by admin, op and time. A read: it is not recorded itself.
 */
import { z } from 'zod';
import { defineOp } from '../admin-op.ts';

/** ms since 1970, or an ISO time (a time without a zone is UTC). */
const time = z.union([z.number().int().nonnegative(), z.string().max(64)]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v);
  const t = Date.parse(zoneless ? `${v.replace(' ', 'T')}Z` : v);
  if (Number.isNaN(t)) ctx.addIssue({ code: 'custom', message: `not a time: "${v}" (use ms or an ISO time, 2026-12-07T10:00Z)` });
  return t;
});

export const auditOps = [
  defineOp({
    name: 'audit.list',
    summary: "the hub's audit trail of admin changes and refusals, newest first",
    writes: false,
    schema: z.strictObject({
      admin: z.string().min(1).max(64).optional(),
      op: z.string().min(1).max(64).optional(),
      since: time.optional(),
      limit: z.number().int().min(1).max(1000).default(50),
    }),
    run: (ctx, b) => ctx.store.adminAudit.list({ ...b, limit: b.limit }),
  }),
];
