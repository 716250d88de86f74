/**
 * `outpost user add|list|remove|codecs`: manage users directly in the box's store. Works whether or
 * not the node runs (SQLite WAL allows a second writer connection); a running node reads users
 * from the store on every authentication, so changes take effect at once.
 */
import type { Command } from 'commander';
import { parseCodecList, type CodecName } from '../config/codec-names.ts';
import { computeHa1 } from '../sip/auth/digest.ts';
import { Store } from '../store/store.ts';
import { CliError } from './cli-error.ts';
import { adminSite, loadCliTarget, requireAdmin, requireOwnSiteRow } from './cli-target.ts';

const EXTENSION = /^[A-Za-z0-9_.+-]{1,32}$/;
const MIN_PASSWORD = 6;

/** A `--codecs` or `user codecs` list, or a one-line CliError naming the bad entry. */
export function codecsArg(text: string): CodecName[] {
  const result = parseCodecList(text);
  if ('problem' in result) throw new CliError(`invalid codec list: ${result.problem}`);
  return result.codecs;
}


/** A codec preference list as shown: the list, or "box default" when it is empty. */
export const codecsText = (codecs: readonly CodecName[]) => (codecs.length > 0 ? codecs.join(',') : 'box default');

export function registerUserCommands(program: Command, out: (line: string) => void): void {
  const user = program.command('user').description('manage the users (extensions) that may register');

  user
    .command('add <ext>')
    .description('add a user, or replace its password and name')
    .requiredOption('--password <pw>', `SIP password (at least ${MIN_PASSWORD} characters; stored only as HA1 hashes)`)
    .option('--name <name>', 'display name (kept when omitted on an existing user)')
    .option('--site <site>', "hub only: the site whose boxes get the user (default: every site)")
    .option('--codecs <list>', 'codec preference order, e.g. opus,PCMA (kept when omitted on an existing user; default: the box default)')
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((ext: string, opts: { password: string; name?: string; site?: string; codecs?: string; config: string }) => {
      if (!EXTENSION.test(ext)) throw new CliError(`invalid extension "${ext}": use 1-32 letters, digits or _ . + -`);
      if (opts.password.length < MIN_PASSWORD) throw new CliError(`password for ${ext} is too short: at least ${MIN_PASSWORD} characters`);
      const codecs = opts.codecs === undefined ? undefined : codecsArg(opts.codecs);
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      const site = adminSite(target, opts.site);
      const realm = target.realm;
      if (realm === undefined) throw new CliError(`${target.file} has no sip.domain: the hub needs it to compute users' digest hashes`);
      withStore(target.dataDir, {}, (store) => {
        const existing = store.users.get(ext);
        requireOwnSiteRow(target, `user ${ext}`, existing?.site);
        if (existing && existing.site !== site && opts.site === undefined) {
          throw new CliError(`user ${ext} belongs to ${existing.site ? `site ${existing.site}` : 'every site'}; to move it, name the new site with --site`);
        }
        const displayName = opts.name ?? existing?.displayName ?? '';
        store.users.upsert(
          {
            ext,
            displayName,
            realm,
            ha1Md5: computeHa1(ext, realm, opts.password, 'MD5'),
            ha1Sha256: computeHa1(ext, realm, opts.password, 'SHA-256'),
            site,
            codecs,
          },
          Date.now(),
        );
        out(`${existing ? 'updated' : 'added'} user ${ext}${displayName ? ` (${displayName})` : ''} in realm ${realm}${codecs ? `, codecs ${codecsText(codecs)}` : ''}`);
      });
    });

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .requiredOption('-c, --config <file>', 'config file')
    .action((opts: { json?: boolean; config: string }) => {
      const target = loadCliTarget(opts.config);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const users = store.users.list().map((u) => ({ ext: u.ext, name: u.displayName, realm: u.realm, site: u.site, codecs: u.codecs }));
        if (opts.json) return out(JSON.stringify(users));
        if (users.length === 0) return out('no users');
        for (const u of users) out(`${u.ext.padEnd(12)} ${(u.name || '-').padEnd(24)} ${codecsText(u.codecs).padEnd(24)} ${u.site ? `site ${u.site}` : 'all sites'}`);
      });
    });

  user
    .command('remove <ext>')
    .description('remove a user; its registrations end at the next sweep')
    .requiredOption('-c, --config <file>', 'config file')
    .action((ext: string, opts: { config: string }) => {
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        requireOwnSiteRow(target, `user ${ext}`, store.users.get(ext)?.site);
        if (!store.users.remove(ext)) throw new CliError(`no user ${ext}`);
        out(`removed user ${ext}`);
      });
    });

  user
    .command('codecs <ext> [list]')
    .description("show a user's codec preference order, set it (e.g. opus,PCMA), or --clear it back to the box default")
    .option('--clear', "clear the user's list: its calls use the box default (rtp.codecs)")
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((ext: string, list: string | undefined, opts: { clear?: boolean; config: string }) => {
      if (list !== undefined && opts.clear) throw new CliError('give a codec list or --clear, not both');
      const codecs = opts.clear ? [] : list === undefined ? undefined : codecsArg(list);
      const target = loadCliTarget(opts.config);
      if (codecs !== undefined) requireAdmin(target);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const existing = store.users.get(ext);
        if (!existing) throw new CliError(`no user ${ext}`);
        if (codecs === undefined) return out(`${ext}: ${codecsText(existing.codecs)}`);
        requireOwnSiteRow(target, `user ${ext}`, existing.site);
        store.users.setCodecs(ext, codecs, Date.now());
        out(`${ext}: ${codecsText(codecs)}`);
      });
    });
}

/** Opens the store for one CLI action and always closes it. */
export function withStore<T>(dataDir: string, options: { mustExist?: boolean }, fn: (store: Store) => T): T {
  const store = Store.open({ dataDir, ...options });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}
