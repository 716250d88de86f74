/**
 * The aedes hooks of an embedded broker over mutual TLS (docs/security.md): who a client is
 * comes from the certificate it presented (identity.ts), and what it may publish, subscribe to
 * and receive from the one ACL of agent/trust/broker-acl.ts. A client without a valid
 * certificate never gets this far (the TLS listener refused it); one whose certificate does not
 * follow the profile is refused at CONNECT. So is a certificate the hub revoked
 * (agent/trust/revocation.ts); a client already connected when its revocation arrives is
 * refused and disconnected at its next publish. Refusals are logged at warn and counted.
 */
import type { TLSSocket } from 'node:tls';
import type { AedesOptions, Client } from 'aedes';
import type { Logger } from '../lib/logger.ts';
import { mayPublish, mayReceive, maySubscribe, type AclIdentity, type SiteLookup } from '../trust/broker-acl.ts';
import { parseAnyCertificate } from '../trust/identity.ts';
import { REVOKED_MESSAGE, revocationReason, type RevocationLookup } from '../trust/revocation.ts';
import { SyncError } from './errors.ts';

export interface BrokerGuardStats {
  refusedConnects: number;
  refusedPublishes: number;
  refusedSubscribes: number;
  filtered: number;
  /** Connects and publishes refused because the client's certificate is revoked. */
  refusedRevoked: number;
}

export class BrokerGuard {
  readonly stats: BrokerGuardStats = { refusedConnects: 0, refusedPublishes: 0, refusedSubscribes: 0, filtered: 0, refusedRevoked: 0 };
  /** Every identity a certificate named since start (the broker's own first): the sites of node ids. */
  private readonly known = new Map<string, AclIdentity>();
  private readonly identities = new WeakMap<Client, AclIdentity>();
  private readonly serials = new WeakMap<Client, string>();
  readonly siteOf: SiteLookup = (id) => this.known.get(id);

  constructor(
    private readonly log: Logger,
    owner?: AclIdentity,
    /** The replicated revocation list (absent: nothing is revoked). */
    private readonly revoked: RevocationLookup = () => undefined,
  ) {
    if (owner) this.known.set(owner.nodeId, owner);
  }

  /** The identity a connected client's certificate names. */
  identityOf(client: Client): AclIdentity | undefined {
    return this.identities.get(client);
  }

  hooks(): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
    return {
      authenticate: (client, _username, _password, done) => {
        const identity = this.authenticate(client);
        if (identity) return done(null, true);
        this.stats.refusedConnects++;
        done(Object.assign(new SyncError('sync.connect', 'not authorized'), { returnCode: 5 as const }), false);
      },
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null); // the broker's own messages
        const me = this.identities.get(client);
        const revoked = revocationReason(this.serials.get(client), this.revoked);
        if (revoked !== undefined) {
          this.stats.refusedRevoked++;
          this.log.warn({ client: client.id, node: me?.nodeId, reason: revoked }, REVOKED_MESSAGE);
          done(new SyncError('sync.connect', revoked));
          client.close();
          return;
        }
        if (me && mayPublish(me, packet.topic, this.siteOf)) return done(null);
        this.stats.refusedPublishes++;
        this.log.warn({ client: client.id, node: me?.nodeId, topic: packet.topic, retain: packet.retain }, 'mqtt publish refused by the ACL');
        done(new SyncError('sync.connect', `not authorized to publish on ${packet.topic}`));
      },
      authorizeSubscribe: (client, sub, done) => {
        const me = this.identities.get(client);
        if (me && maySubscribe(me, sub.topic, this.siteOf)) return done(null, sub);
        this.stats.refusedSubscribes++;
        this.log.warn({ client: client.id, node: me?.nodeId, topic: sub.topic }, 'mqtt subscription refused by the ACL');
        done(null, null); // SUBACK 0x80 for this filter
      },
      authorizeForward: (client, packet) => {
        const me = this.identities.get(client);
        if (me && mayReceive(me, packet.topic, this.siteOf)) return packet;
        this.stats.filtered++;
        return null;
      },
    };
  }

  private authenticate(client: Client): AclIdentity | undefined {
    const socket = client.conn as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) {
      this.log.warn({ client: client.id }, 'mqtt client without a verified certificate refused');
      return undefined;
    }
    const raw = socket.getPeerCertificate().raw;
    try {
      // Admins too (role admin): the ACL lets them publish admin requests and nothing else.
      const facts = parseAnyCertificate(`-----BEGIN CERTIFICATE-----\n${raw.toString('base64')}\n-----END CERTIFICATE-----\n`);
      const revoked = revocationReason(facts.serial, this.revoked);
      if (revoked !== undefined) {
        this.stats.refusedRevoked++;
        this.log.warn({ client: client.id, node: facts.nodeId, reason: revoked }, REVOKED_MESSAGE);
        return undefined;
      }
      const identity: AclIdentity = { nodeId: facts.nodeId, site: facts.site, role: facts.role };
      this.serials.set(client, facts.serial);
      this.identities.set(client, identity);
      if (facts.role !== 'admin') this.known.set(identity.nodeId, identity);
      return identity;
    } catch (err) {
      this.log.warn({ client: client.id, err: (err as Error).message }, 'mqtt client certificate does not follow the profile; refused');
      return undefined;
    }
  }
}
