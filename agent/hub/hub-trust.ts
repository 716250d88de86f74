/**
 * The hub's live trust parts, built by one call from agent/hub/hub.ts: its credentials as they
 * are renewed (LiveCredentials, with HubRenewer renewing them before expiry), and with Mosquitto
 * (`mqtt.url` and `mosquitto.dir`) the rewriting of its ACL and CRL on enrolment and revocation,
 * followed by a reload (MosquittoReload).
 */
import type { HubConfig } from '../config/hub-schema.ts';
import { parseMqttUrl } from '../config/sync-schema.ts';
import { validityMs } from '../config/trust-schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { CertificateAuthority } from '../trust/ca.ts';
import type { Credentials } from '../trust/credentials.ts';
import { TrustError } from '../trust/errors.ts';
import { HubRenewer } from '../trust/hub-renewer.ts';
import { LiveCredentials } from '../trust/live-credentials.ts';
import { serverCertificateDue, writeMosquittoFiles } from '../trust/mosquitto-files.ts';
import { hubMark, MosquittoReload, mosquittoReloader } from '../trust/mosquitto-reload.ts';
import { DEFAULT_RENEWAL } from '../trust/renewal-schedule.ts';

export interface HubTrust {
  live: LiveCredentials;
  start(): void;
  stop(): void;
}

export function hubTrust(config: HubConfig, ca: CertificateAuthority, store: Store, credentials: Credentials, clock: Clock, logger: Logger): HubTrust {
  const log = logger.child({ mod: 'renewal' });
  const live = new LiveCredentials(credentials, log);
  const validity = config.ca.certificateValidity !== undefined ? validityMs(config.ca.certificateValidity) : config.ca.certificateDays * 86_400_000;
  const renewer = new HubRenewer({
    ca, dataDir: config.dataDir, live, clock, logger: log,
    validityMs: validity,
    serverNames: config.ca.serverNames,
    policy: { ...DEFAULT_RENEWAL, window: config.renewal.window },
  });
  const m = config.mosquitto;
  let mosquitto: MosquittoReload | undefined;
  if (m) {
    if (!('url' in config.mqtt)) throw new TrustError('trust.mosquitto', 'mosquitto.dir needs mqtt.url (the hub runs its embedded broker: remove the mosquitto section)');
    const address = parseMqttUrl(config.mqtt.url);
    if (typeof address === 'string' || !address.secure) throw new TrustError('trust.mosquitto', `mosquitto.dir needs mqtt.url mqtts://HOST:PORT, got ${config.mqtt.url}`);
    const mlog = logger.child({ mod: 'mosquitto' });
    mosquitto = new MosquittoReload({
      clock, logger: mlog,
      // Also Mosquitto's server certificate, renewed in the hub's renewal window.
      mark: () => `${hubMark(config.dataDir, () => store.revocations.list().length)}/${serverCertificateDue(m.dir, config.renewal.window, clock.now())}`,
      rewrite: async () => {
        const w = await writeMosquittoFiles({
          dir: m.dir, hubDataDir: config.dataDir, hubId: config.id, ca, listen: { host: address.host, port: address.port }, revoked: store.revocations.list(),
          certificateDays: config.ca.certificateDays, serverNames: config.ca.serverNames, newServerCertificate: false, now: clock.now(),
          renewWindow: config.renewal.window, validityMs: validity,
        });
        return { dir: m.dir, boxes: w.boxes, revoked: w.revoked };
      },
      reload: mosquittoReloader(m),
    });
  }
  return {
    live,
    start() {
      renewer.start();
      mosquitto?.start();
    },
    stop() {
      mosquitto?.stop();
      renewer.stop();
    },
  };
}
