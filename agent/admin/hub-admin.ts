/** Builds the hub's admin service from the hub's config and parts (agent/hub/hub.ts wires it with one call). */
import type { HubConfig } from '../config/hub-schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import type { PeerDirectory } from '../sync/peer-directory.ts';
import type { Credentials } from '../trust/credentials.ts';
import { AdminService } from './admin-service.ts';

export function startHubAdmin(config: HubConfig, parts: { store: Store; credentials: Credentials; brokerUrl: string; directory: PeerDirectory; clock: Clock; logger: Logger }): AdminService {
  const service = new AdminService({
    hubId: config.id,
    brokerUrl: parts.brokerUrl,
    credentials: parts.credentials,
    store: parts.store,
    hubDataDir: config.dataDir,
    defaultRealm: config.sip ? (config.sip.realm ?? config.sip.domain) : undefined,
    revoked: (serial) => parts.store.revocations.get(serial),
    nodeOnline: (id) => parts.directory.get(id)?.online,
    clock: parts.clock,
    logger: parts.logger.child({ mod: 'admin' }),
  });
  service.start();
  return service;
}
