/**
 * Ops `site.create`, `site.update`, `site.list`: sites with their own SIP domain and realm
 * (migration 9). A box of the site challenges with the site's realm and serves its domain
 * (agent/switch/site-sip.ts). Users hashed with the old realm need a new password after a
 * realm change (HA1 includes the realm).
 */
import { z } from 'zod';
import { defineOp, siteId } from '../admin-op.ts';
import { problem } from '../errors.ts';

/** A domain as `sip.domain` takes it: a host name or an address, no scheme or port. */
const domain = z.string().max(253).regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, 'a host name such as branch-b.example');
/** A realm is quoted in WWW-Authenticate: printable, no quote or backslash. */
const realm = z.string().min(1).max(128).regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'printable characters, no " or \\');
const fields = { id: siteId, name: z.string().max(128).optional(), domain: domain.or(z.literal('')).optional(), realm: realm.or(z.literal('')).optional() };

export const siteOps = [
  defineOp({
    name: 'site.create',
    summary: 'create a site, optionally with its own SIP domain and realm',
    writes: true,
    schema: z.strictObject(fields),
    run(ctx, b) {
      if (ctx.store.sites.get(b.id)) throw problem(`site ${b.id} exists (use site.update)`);
      ctx.store.sites.upsert({ id: b.id, name: b.name ?? '', adminPublicKey: '', domain: b.domain ?? '', realm: b.realm ?? '' }, ctx.now);
      return { id: b.id };
    },
  }),
  defineOp({
    name: 'site.update',
    summary: "change a site's name, SIP domain or realm ('' clears: the box's config decides)",
    writes: true,
    schema: z.strictObject(fields),
    run(ctx, b) {
      const s = ctx.store.sites.get(b.id);
      if (!s) throw problem(`no site ${b.id} (use site.create)`);
      ctx.store.sites.upsert({ id: b.id, name: b.name ?? s.name, adminPublicKey: s.adminPublicKey, domain: b.domain ?? s.domain, realm: b.realm ?? s.realm }, ctx.now);
      return { id: b.id };
    },
  }),
  defineOp({
    name: 'site.list',
    summary: 'list sites with their domain and realm',
    writes: false,
    schema: z.strictObject({}),
    run: (ctx) => ctx.store.sites.list().map((s) => ({ id: s.id, name: s.name, domain: s.domain, realm: s.realm, adminKey: s.adminPublicKey !== '' })),
  }),
];
