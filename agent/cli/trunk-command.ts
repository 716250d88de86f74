/**
 * `outpost trunk add|list|remove`: SIP trunks in the store (admin-owned rows, like routes), the
 * peers that a dial-plan route with `--action trunk --target ID` sends calls to. A trunk is
 * reached without registration or authentication. Works whether or not the node runs.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { isTrunkHost, isTrunkId, isTrunkTransport, parseTrunkPort, TRUNK_TRANSPORTS, type TrunkRecord } from '../store/trunks.ts';
import { CliError } from './cli-error.ts';
import { adminSite, loadCliTarget, requireAdmin, requireOwnSiteRow } from './cli-target.ts';
import { codecsArg, codecsText, withStore } from './user-command.ts';

/** `udp:192.0.2.10:5060`, `tcp:[2001:db8::1]:5060`: the spelling of the config's listen addresses. */
const addressText = (t: TrunkRecord) => `${t.transport}:${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;

export function registerTrunkCommands(program: Command, out: (line: string) => void): void {
  const trunk = program.command('trunk').description('SIP trunks: peers that dial-plan routes with --action trunk send calls to');

  trunk
    .command('add <id>')
    .description('add a trunk, or replace every setting of an existing one')
    .requiredOption('--host <host>', 'IP address or DNS name of the peer (no scheme, no port)')
    .option('--port <port>', 'SIP port of the peer', '5060')
    .option('--transport <transport>', `one of ${TRUNK_TRANSPORTS.join(', ')}`, 'udp')
    .option('--codecs <list>', 'codec preference order, e.g. PCMA,PCMU (default: the box default)')
    .option('--site <site>', 'hub only: the site whose boxes get the trunk (default: every site)')
    .option('--disabled', 'add the trunk disabled: routes to it are refused (503)')
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((id: string, opts: { host: string; port: string; transport: string; codecs?: string; site?: string; disabled?: boolean; config: string }) => {
      if (!isTrunkId(id)) throw new CliError(`invalid trunk id "${id}": use 1-64 letters, digits or _ . - starting with a letter or digit`);
      if (!isTrunkHost(opts.host)) throw new CliError(`invalid --host "${opts.host}": use an IP address or a DNS name, without scheme, port or brackets`);
      const port = parseTrunkPort(opts.port);
      if (port === undefined) throw new CliError(`invalid --port "${opts.port}": use a whole number from 1 to 65535`);
      const transport = opts.transport.toLowerCase();
      if (!isTrunkTransport(transport)) throw new CliError(`invalid --transport "${opts.transport}": use ${TRUNK_TRANSPORTS.join(', ')}`);
      const codecs = opts.codecs === undefined ? [] : codecsArg(opts.codecs);
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      const site = adminSite(target, opts.site);
      const record: TrunkRecord = { id, host: opts.host, port, transport, codecs, site, enabled: !opts.disabled };
      withStore(target.dataDir, {}, (store) => {
        const existing = store.trunks.get(id);
        requireOwnSiteRow(target, `trunk ${id}`, existing?.site);
        if (existing && existing.site !== site && opts.site === undefined) {
          throw new CliError(`trunk ${id} belongs to ${existing.site ? `site ${existing.site}` : 'every site'}; to move it, name the new site with --site`);
        }
        store.trunks.upsert(record, Date.now());
        out(`${existing ? 'updated' : 'added'} trunk ${id}: ${addressText(record)}, codecs ${codecsText(codecs)}${record.enabled ? '' : ' [disabled]'}`);
      });
    });

  trunk
    .command('list')
    .description('list trunks by id')
    .option('--json', 'print JSON')
    .requiredOption('-c, --config <file>', 'config file')
    .action((opts: { json?: boolean; config: string }) => {
      const target = loadCliTarget(opts.config);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        const trunks = store.trunks.list();
        if (opts.json) return out(JSON.stringify(trunks));
        if (trunks.length === 0) return out('no trunks');
        for (const t of trunks) {
          out(`${t.id.padEnd(16)} ${addressText(t).padEnd(28)} ${codecsText(t.codecs).padEnd(24)} ${t.site ? `site ${t.site}` : 'all sites'}${t.enabled ? '' : ' [disabled]'}`);
        }
      });
    });

  trunk
    .command('remove <id>')
    .description('remove a trunk; routes to it are refused (503) until it is added again')
    .requiredOption('-c, --config <file>', 'config file')
    .action((id: string, opts: { config: string }) => {
      const target = loadCliTarget(opts.config);
      requireAdmin(target);
      withStore(target.dataDir, { mustExist: true }, (store) => {
        requireOwnSiteRow(target, `trunk ${id}`, store.trunks.get(id)?.site);
        if (!store.trunks.remove(id)) throw new CliError(`no trunk ${id}`);
        out(`removed trunk ${id}`);
      });
    });
}
