/**
 * `outpost broker mosquitto-config --out DIR --config HUBFILE` (docs/cli/broker.md): everything
 * Mosquitto needs to be the fleet's broker over mutual TLS, written into DIR: the CA
 * certificate, a server certificate (role `broker`, named after the hub, with the names of
 * `ca.serverNames`) issued by the hub's CA, its key (0600), `outpost.conf` (the listener of the
 * hub's `mqtt.url`), `outpost.acl` from the certificates the CA issued and the open claims bound
 * to a node id, and `outpost.crl`, the revoked certificates. agent/trust/mosquitto-files.ts
 * writes them (the hub rewrites the ACL and CRL itself with `mosquitto.dir`).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import { parseMqttUrl } from '../config/sync-schema.ts';
import { createSystemClock } from '../lib/clock.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { writeMosquittoFiles } from '../trust/mosquitto-files.ts';
import { CliError } from './cli-error.ts';
import { withStore } from './user-command.ts';

export function registerBrokerCommands(program: Command, out: (line: string) => void): void {
  const broker = program.command('broker').description('an external broker for the fleet');
  broker
    .command('mosquitto-config')
    .description('write Mosquitto\'s TLS listener, server certificate, ACL file and CRL (run with the hub\'s config)')
    .requiredOption('--out <dir>', 'the directory to write into (created; files in it are replaced)')
    .requiredOption('-c, --config <file>', "the hub's config file (mqtt.url: where Mosquitto listens)")
    .action(async (opts: { out: string; config: string }) => {
      const any = loadAnyConfig(opts.config);
      if (any.kind !== 'hub') throw new CliError(`the broker is configured from the hub's config, not ${opts.config}`);
      const hub = any.config;
      if (!('url' in hub.mqtt)) throw new CliError('the hub runs its embedded broker (mqtt.listen); set mqtt.url to where Mosquitto listens');
      const address = parseMqttUrl(hub.mqtt.url);
      if (typeof address === 'string' || !address.secure) throw new CliError(`mqtt.url must be mqtts://HOST:PORT for Mosquitto over TLS, got ${hub.mqtt.url}`);
      const dir = resolve(opts.out);
      const ca = await CertificateAuthority.loadOrCreate({ dataDir: hub.dataDir, hubId: hub.id, caDays: hub.ca.days, clock: createSystemClock() });
      const revoked = withStore(hub.dataDir, {}, (store) => store.revocations.list());
      const w = await writeMosquittoFiles({
        dir, hubDataDir: hub.dataDir, hubId: hub.id, ca, listen: { host: address.host, port: address.port }, revoked,
        certificateDays: hub.ca.certificateDays, serverNames: hub.ca.serverNames, newServerCertificate: true, now: Date.now(),
      });
      const p = w.paths;
      out(`wrote ${p.conf} (listener ${address.host}:${address.port}, client certificates required)`);
      out(`wrote ${p.aclFile} (${w.boxes} boxes), ${p.crlFile} (${w.revoked} revoked), ${p.certfile}, ${p.keyfile} (0600), ${p.cafile}`);
      out(`add to mosquitto.conf: include_dir ${dir}   (with mosquitto.dir: ${dir} in the hub's config, the hub keeps the ACL and CRL up to date)`);
    });
}
