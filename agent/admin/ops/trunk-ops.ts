/** Ops `trunk.add`, `trunk.remove`, `trunk.list`: SIP trunks, as `outpost trunk` (agent/cli/trunk-command.ts). */
import { z } from 'zod';
import { isTrunkHost, isTrunkId, TRUNK_TRANSPORTS } from '../../store/trunks.ts';
import { defineOp, siteId } from '../admin-op.ts';
import { problem } from '../errors.ts';
import { codecs } from './user-ops.ts';

const id = z.string().refine(isTrunkId, 'use 1-64 letters, digits or _ . - starting with a letter or digit');

export const trunkOps = [
  defineOp({
    name: 'trunk.add',
    summary: 'add a trunk, or replace every setting of an existing one',
    writes: true,
    schema: z.strictObject({
      id,
      host: z.string().refine(isTrunkHost, 'use an IP address or a DNS name, without scheme, port or brackets'),
      port: z.number().int().min(1).max(65535).default(5060),
      transport: z.enum(TRUNK_TRANSPORTS).default('udp'),
      codecs: codecs.default([]),
      site: siteId.or(z.literal('')).default(''),
      enabled: z.boolean().default(true),
    }),
    run(ctx, b) {
      const existing = ctx.store.trunks.get(b.id);
      ctx.store.trunks.upsert(b, ctx.now);
      return { id: b.id, added: existing === undefined };
    },
  }),
  defineOp({
    name: 'trunk.remove',
    summary: 'remove a trunk',
    writes: true,
    schema: z.strictObject({ id }),
    run(ctx, b) {
      if (!ctx.store.trunks.remove(b.id)) throw problem(`no trunk ${b.id}`);
      return { id: b.id };
    },
  }),
  defineOp({
    name: 'trunk.list',
    summary: 'list trunks',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => ctx.store.trunks.list(),
  }),
];
