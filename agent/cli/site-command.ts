/**
 * `outpost site add|list` (against the hub's config): the fleet's sites. `--admin-key-out FILE`
 * creates the site's admin key: the private key goes to FILE (mode 0600) for the site's boxes
 * (`sync.siteAdminKey`), the public key into the `sites` row, which every box receives.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { withStore } from './user-command.ts';

const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function registerSiteCommands(program: Command, out: (line: string) => void): void {
  const site = program.command('site').description("manage sites and their admin keys (run with the hub's config)");

  site
    .command('add <id>')
    .description('add a site, or rename it; optionally create its admin key')
    .option('--name <name>', 'display name')
    .option('--admin-key-out <file>', "create the site's admin key and write its private key here (mode 0600)")
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((id: string, opts: { name?: string; adminKeyOut?: string; config: string }) => {
      if (!SITE_ID.test(id)) throw new CliError(`invalid site id "${id}": use 1-63 lowercase letters, digits or dashes`);
      const target = loadCliTarget(opts.config);
      if (target.kind !== 'hub') throw new CliError(`sites are managed on the hub: run this command with the hub's config, not ${target.file}`);
      let adminPublicKey: string | undefined;
      if (opts.adminKeyOut) {
        const file = resolve(opts.adminKeyOut);
        if (existsSync(file)) throw new CliError(`${file} exists; refusing to overwrite a key`);
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
        adminPublicKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
        out(`wrote the admin key of site ${id} to ${file}; copy it to the site's boxes and set sync.siteAdminKey`);
      }
      withStore(target.dataDir, {}, (store) => {
        const existing = store.sites.get(id);
        store.sites.upsert({ id, name: opts.name ?? existing?.name ?? '', adminPublicKey: adminPublicKey ?? existing?.adminPublicKey ?? '' }, Date.now());
        out(`${existing ? 'updated' : 'added'} site ${id}${adminPublicKey ? ' with a new admin key' : ''}`);
      });
    });

  site
    .command('list')
    .description('list sites')
    .option('--json', 'print JSON')
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((opts: { json?: boolean; config: string }) => {
      const target = loadCliTarget(opts.config);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const sites = store.sites.list().map((s) => ({ id: s.id, name: s.name, adminKey: s.adminPublicKey !== '' }));
        if (opts.json) return out(JSON.stringify(sites));
        if (sites.length === 0) return out('no sites');
        for (const s of sites) out(`${s.id.padEnd(16)} ${(s.name || '-').padEnd(24)} ${s.adminKey ? 'admin key' : 'no admin key'}`);
      });
    });
}
