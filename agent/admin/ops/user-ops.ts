/**
 * Ops `user.add`, `user.set-password`, `user.remove`, `user.list`: the same rows, checks and
 * HA1 hashes as `outpost user` (agent/cli/user-command.ts). A user's realm is its site's
 * (`sites.realm`, else the site's domain) when the site sets one, else the hub's `sip.realm`.
 */
import { z } from 'zod';
import { CODEC_NAMES, normaliseCodecName, type CodecName } from '../../config/codec-names.ts';
import { computeHa1 } from '../../sip/auth/digest.ts';
import { defineOp, siteId, type OpContext } from '../admin-op.ts';
import { problem } from '../errors.ts';

const ext = z.string().regex(/^[A-Za-z0-9_.+-]{1,32}$/, 'use 1-32 letters, digits or _ . + -');
const password = z.string().min(6, 'at least 6 characters').max(128);
export const codecs = z.array(z.string()).max(CODEC_NAMES.length).transform((list, ctx) => {
  const out: CodecName[] = [];
  for (const c of list) {
    const n = normaliseCodecName(c);
    if (n === undefined) ctx.addIssue({ code: 'custom', message: `unknown codec "${c}" (known: ${CODEC_NAMES.join(', ')})` });
    else if (out.includes(n)) ctx.addIssue({ code: 'custom', message: `codec ${n} listed twice` });
    else out.push(n);
  }
  return out;
});

/** The realm users of `site` are hashed with. */
export function realmFor(ctx: OpContext, site: string): string {
  const row = site === '' ? undefined : ctx.store.sites.get(site);
  const realm = row ? row.realm || row.domain : '';
  if (realm !== '') return realm;
  if (ctx.defaultRealm !== undefined) return ctx.defaultRealm;
  throw problem(`no realm for ${site ? `site ${site}` : 'a user of every site'}: give the site a realm (site.update --realm) or the hub a sip.domain`);
}

function hashes(user: string, realm: string, pw: string) {
  return { realm, ha1Md5: computeHa1(user, realm, pw, 'MD5'), ha1Sha256: computeHa1(user, realm, pw, 'SHA-256') };
}

export const userOps = [
  defineOp({
    name: 'user.add',
    summary: 'add a user, or replace its password and name',
    writes: true,
    schema: z.strictObject({ ext, password, name: z.string().max(128).optional(), site: siteId.or(z.literal('')).optional(), codecs: codecs.optional() }),
    run(ctx, b) {
      const existing = ctx.store.users.get(b.ext);
      const site = b.site ?? existing?.site ?? '';
      const displayName = b.name ?? existing?.displayName ?? '';
      ctx.store.users.upsert({ ext: b.ext, displayName, site, ...hashes(b.ext, realmFor(ctx, site), b.password), ...(b.codecs ? { codecs: b.codecs } : {}) }, ctx.now);
      return { ext: b.ext, added: existing === undefined, site, realm: realmFor(ctx, site) };
    },
  }),
  defineOp({
    name: 'user.set-password',
    summary: "replace a user's password (its HA1 hashes)",
    writes: true,
    schema: z.strictObject({ ext, password }),
    run(ctx, b) {
      const u = ctx.store.users.get(b.ext);
      if (!u) throw problem(`no user ${b.ext}`);
      ctx.store.users.upsert({ ext: u.ext, displayName: u.displayName, site: u.site, ...hashes(u.ext, realmFor(ctx, u.site), b.password) }, ctx.now);
      return { ext: b.ext };
    },
  }),
  defineOp({
    name: 'user.remove',
    summary: 'remove a user',
    writes: true,
    schema: z.strictObject({ ext }),
    run(ctx, b) {
      if (!ctx.store.users.remove(b.ext)) throw problem(`no user ${b.ext}`);
      return { ext: b.ext };
    },
  }),
  defineOp({
    name: 'user.list',
    summary: 'list users',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => ctx.store.users.list().map((u) => ({ ext: u.ext, name: u.displayName, realm: u.realm, site: u.site, codecs: u.codecs })),
  }),
];
