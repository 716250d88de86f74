/**
 * An in-process MQTT 3.1.1 broker (aedes) for `mqtt.listen`: the hub's broker, or a node's
 * broker for its site peers. On `mqtts://` it listens over TLS, requires a client certificate
 * from the hub's CA and enforces the ACL of the certificate's identity (broker-guard.ts); on
 * `mqtt://` (insecure dev mode, docs/security.md) it is plain TCP and open to anyone. In-memory persistence only: retained messages and
 * sessions live as long as the process. stop() drops every connection at once; clients
 * reconnect elsewhere or later, replication catches up from its change log.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Credentials } from '../trust/credentials.ts';
import type { LiveCredentials } from '../trust/live-credentials.ts';
import type { AclIdentity } from '../trust/broker-acl.ts';
import type { RevocationLookup } from '../trust/revocation.ts';
import { BrokerGuard } from './broker-guard.ts';
import { formatMqttUrl, parseMqttUrl } from '../config/sync-schema.ts';
import type { Logger } from '../lib/logger.ts';
import { hostPort, listenFailureReason, listenOn } from '../lib/listen.ts';
import { SyncError } from './errors.ts';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Mutual TLS with these credentials, and the ACL; absent: plain MQTT. */
  tls?: BrokerTls;
}

/** The broker's certificate and identity, and the revocation list its guard refuses. */
export interface BrokerTls {
  credentials: Credentials;
  owner: AclIdentity;
  revoked?: RevocationLookup;
  /** Renewals: the listener serves the new certificate from the next handshake (no restart). */
  live?: LiveCredentials;
}

export class EmbeddedBroker {
  readonly #options: EmbeddedBrokerOptions;
  readonly #log: Logger;
  #aedes: Aedes | undefined;
  #server: net.Server | undefined;
  /** Every accepted socket, including ones that never sent CONNECT (aedes.close() misses those). */
  readonly #sockets = new Set<net.Socket>();
  #bound: { host: string; port: number; secure: boolean } | undefined;
  #published = 0;
  #stopping: Promise<void> | undefined;
  #unwatch: (() => void) | undefined;
  /** The certificate ACL (mqtts only). */
  readonly guard: BrokerGuard | undefined;

  constructor(options: EmbeddedBrokerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.guard = options.tls ? new BrokerGuard(options.logger, options.tls.owner, options.tls.revoked) : undefined;
  }

  async start(): Promise<void> {
    if (this.#server) throw new SyncError('sync.broker', 'MQTT broker is already started');
    const { host, port } = this.#options;
    let aedes: Aedes;
    try {
      aedes = await Aedes.createBroker(this.guard?.hooks() ?? {});
    } catch (err) {
      throw new SyncError('sync.broker', `cannot start MQTT broker: ${(err as Error).message}`, { cause: err });
    }
    this.#wire(aedes);
    const accept = (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.setNoDelay(true); // small batches and acks go out at once (Nagle cost ~40 ms a hop)
      socket.once('close', () => this.#sockets.delete(socket));
      aedes.handle(socket);
    };
    const t = this.#options.tls;
    const server = t
      ? tls.createServer({ ...(t.live?.current ?? t.credentials), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, accept)
      : net.createServer(accept);
    if (t) {
      server.on('tlsClientError', (err, socket) => {
        this.#log.warn({ remote: socket.remoteAddress, err: err.message }, 'mqtt TLS handshake refused');
        socket.destroy();
      });
    }
    try {
      await listenOn(server, host, port);
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new SyncError('sync.listen', `cannot listen for MQTT on ${hostPort(host, port)}: ${listenFailureReason(err)}`, {
        cause: err,
      });
    }
    server.on('error', (err) => this.#log.error({ err: err.message }, 'mqtt listener error'));
    const addr = server.address() as net.AddressInfo;
    this.#aedes = aedes;
    this.#server = server;
    this.#bound = { host, port: addr.port, secure: t !== undefined };
    // Connected clients keep their sessions; new handshakes get the renewed certificate.
    this.#unwatch = t?.live?.onChange((c) => (server as tls.Server).setSecureContext({ key: c.key, cert: c.cert, ca: c.ca, minVersion: 'TLSv1.2' }));
    this.#published = 0;
    this.#stopping = undefined;
    this.#log.info({ url: this.url }, 'mqtt broker listening');
  }

  /** Closes every connection, the listener and aedes. Safe to call twice or before start(). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    if (!server || !aedes) return;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    // aedes.close() closes the clients it knows (publishing their wills) and its emitter.
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await serverClosed;
    this.#server = undefined;
    this.#aedes = undefined;
    this.#log.info({ url: this.url }, 'mqtt broker stopped');
  }

  get address(): { host: string; port: number; secure: boolean } {
    if (!this.#bound) throw new SyncError('sync.broker', 'MQTT broker has not been started');
    return { ...this.#bound };
  }

  get url(): string {
    return formatMqttUrl(this.address);
  }

  get clients(): number {
    return this.#aedes?.connectedClients ?? 0;
  }

  /** Connected clients, and messages clients published through the broker since start(). */
  stats(): { clients: number; published: number } {
    return { clients: this.clients, published: this.#published };
  }

  #wire(aedes: Aedes): void {
    const id = (client: Client | null) => client?.id ?? null;
    aedes.on('client', (client) => this.#log.debug({ client: id(client) }, 'mqtt client connected'));
    aedes.on('clientDisconnect', (client) => this.#log.debug({ client: id(client) }, 'mqtt client disconnected'));
    aedes.on('clientError', (client, err) => this.#log.warn({ client: id(client), err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) =>
      this.#log.warn({ remote: client?.conn && (client.conn as net.Socket).remoteAddress, err: err.message }, 'mqtt connection error'),
    );
    aedes.on('keepaliveTimeout', (client) => this.#log.debug({ client: id(client) }, 'mqtt client keepalive timeout'));
    // The broker's own $SYS heartbeats have no client; wills carry the client that left them.
    aedes.on('publish', (_packet, client) => {
      if (client) this.#published++;
    });
  }
}

/**
 * The broker for a validated `mqtt.listen`: `mqtts://` needs `tls` (the node's credentials and
 * identity, read when the broker is built); `mqtt://` is plain and logs a warning.
 */
export function embeddedBrokerAt(listen: string, logger: Logger, tls?: () => BrokerTls): EmbeddedBroker {
  const address = parseMqttUrl(listen);
  if (typeof address === 'string') throw new SyncError('sync.listen', `mqtt.listen: ${address}`);
  if (!address.secure) {
    logger.warn({ listen }, 'insecure MQTT: the broker accepts anyone without TLS or ACL (dev mode only; docs/security.md)');
    return new EmbeddedBroker({ host: address.host, port: address.port, logger });
  }
  if (!tls) throw new SyncError('sync.broker', `mqtt.listen ${listen} needs the node's certificate (enrol the box first)`);
  return new EmbeddedBroker({ host: address.host, port: address.port, logger, tls: tls() });
}
