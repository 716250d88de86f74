/**
 * `outpost broker mosquitto-config --out DIR --config HUBFILE` (docs/cli/broker.md): everything
 * Mosquitto needs to be the fleet's broker over mutual TLS, written into DIR: the CA
 * certificate, a server certificate for the hub's id issued by the hub's CA (with the names of
 * `ca.serverNames`), its key (0600), `outpost.conf` (the listener of the hub's `mqtt.url`) and
 * `outpost.acl` from the certificates the CA issued and the open claims bound to a node id. The text is made in agent/trust/mosquitto-config.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import { parseMqttUrl } from '../config/sync-schema.ts';
import { createSystemClock } from '../lib/clock.ts';
import type { AclIdentity } from '../trust/broker-acl.ts';
import { ADMIN_DIR, CA_DIR, CertificateAuthority } from '../trust/ca.ts';
import { ClaimBook } from '../trust/claim-book.ts';
import { claimState } from '../trust/claim-rules.ts';
import { newTlsKey } from '../trust/credentials.ts';
import { parseAdminCertificate, parseCertificate } from '../trust/identity.ts';
import { mosquittoAcl, mosquittoListenerConf } from '../trust/mosquitto-config.ts';
import { spkiOfKey } from '../trust/x509.ts';
import { CliError } from './cli-error.ts';

/**
 * The latest certificate the CA issued for each node id, as identities, and the boxes that open
 * claims bound to a node id will certify (so they work as soon as they enrol).
 */
function certifiedNodes(hubDataDir: string): AclIdentity[] {
  const dir = join(hubDataDir, CA_DIR, 'issued');
  const latest = new Map<string, { at: number; id: AclIdentity }>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.pem'))) {
    const facts = parseCertificate(readFileSync(join(dir, f), 'utf8'));
    const at = facts.notBefore.getTime();
    if ((latest.get(facts.nodeId)?.at ?? -1) <= at) latest.set(facts.nodeId, { at, id: { nodeId: facts.nodeId, site: facts.site, role: facts.role } });
  }
  const admins = join(dir, ADMIN_DIR);
  for (const f of existsSync(admins) ? readdirSync(admins).filter((x) => x.endsWith('.pem')) : []) {
    const facts = parseAdminCertificate(readFileSync(join(admins, f), 'utf8'));
    latest.set(`admin:${facts.nodeId}`, { at: 0, id: { nodeId: facts.nodeId, site: '', role: 'admin' } });
  }
  const now = Date.now();
  for (const { claim, marks } of new ClaimBook(hubDataDir).list()) {
    if (claim.nodeId === undefined || latest.has(claim.nodeId) || claimState(claim, marks, now) !== 'open') continue;
    latest.set(claim.nodeId, { at: 0, id: { nodeId: claim.nodeId, site: claim.site, role: 'node' } });
  }
  return [...latest.values()].map((x) => x.id);
}

export function registerBrokerCommands(program: Command, out: (line: string) => void): void {
  const broker = program.command('broker').description('an external broker for the fleet');
  broker
    .command('mosquitto-config')
    .description('write Mosquitto\'s TLS listener, server certificate and ACL file (run with the hub\'s config)')
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
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const ca = await CertificateAuthority.loadOrCreate({ dataDir: hub.dataDir, hubId: hub.id, caDays: hub.ca.days, clock: createSystemClock() });
      const key = newTlsKey();
      const cert = await ca.issue({
        identity: { nodeId: hub.id, site: '', role: 'hub', nodeKey: undefined },
        publicKey: spkiOfKey(createPrivateKey(key)),
        days: hub.ca.certificateDays,
        serverNames: hub.ca.serverNames,
      });
      const files = { cafile: join(dir, 'ca.crt'), certfile: join(dir, 'server.crt'), keyfile: join(dir, 'server.key'), aclFile: join(dir, 'outpost.acl') };
      writeFileSync(files.cafile, ca.certificatePem, { mode: 0o644 });
      writeFileSync(files.certfile, cert.endsWith('\n') ? cert : `${cert}\n`, { mode: 0o644 });
      writeFileSync(files.keyfile, key, { mode: 0o600 });
      const nodes = certifiedNodes(hub.dataDir);
      writeFileSync(files.aclFile, mosquittoAcl(hub.id, nodes), { mode: 0o644 });
      writeFileSync(join(dir, 'outpost.conf'), mosquittoListenerConf({ host: address.host, port: address.port, ...files }), { mode: 0o644 });
      out(`wrote ${join(dir, 'outpost.conf')} (listener ${address.host}:${address.port}, client certificates required)`);
      out(`wrote ${files.aclFile} (${nodes.filter((n) => n.role === 'node').length} boxes), ${files.certfile}, ${files.keyfile} (0600), ${files.cafile}`);
      out(`add to mosquitto.conf: include_dir ${dir}   (after enrolling boxes, run this again and send Mosquitto SIGHUP)`);
    });
}
