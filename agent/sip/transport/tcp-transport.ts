/**
 * SIP over TCP (RFC 3261 §18.3): messages framed by Content-Length, connections kept and reused
 * in both directions (a response goes back on the connection its request came in on; a later
 * request to the same peer reuses it). Idle connections close after `idleTimeoutMs`.
 * The sockets come from a StreamSockets factory: plain TCP by default, TLS (tls-sockets.ts) for
 * SIP over TLS, with the same framing and connection reuse.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOn } from '../../lib/listen.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SipMessage } from '../message/sip-message.ts';
import { serializeMessage } from '../message/serialize-message.ts';
import { SipStreamFramer } from '../message/stream-framer.ts';
import { TransportError } from './errors.ts';
import type { Endpoint, Transport } from './transport.ts';
import type { DataHandler, SentHandler } from './udp-transport.ts';

/** Where a stream transport's sockets come from (plain TCP or TLS). */
export interface StreamSockets {
  readonly protocol: 'tcp' | 'tls';
  /** A server that calls `onSocket` with each accepted connection, ready for SIP. */
  server(onSocket: (socket: Socket) => void): Server;
  /** Connects to `dest`; resolves once the connection is ready for SIP (TLS: handshake done). */
  connect(dest: Endpoint): Promise<Socket>;
  /** The node id a connection's peer certificate names, when verified (TLS only). */
  certifiedNode?(socket: Socket): string | undefined;
}

/** Plain TCP sockets. */
export const plainSockets: StreamSockets = {
  protocol: 'tcp',
  server: (onSocket) => createServer(onSocket),
  connect: (dest) =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: dest.address, port: dest.port });
      const fail = (err: Error) => reject(new TransportError('transport.connect', `tcp connect to ${dest.address}:${dest.port} failed: ${err.message}`, { cause: err }));
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        resolve(socket);
      });
    }),
};

export interface TcpTransportOptions {
  host: string;
  port: number;
  logger: Logger;
  onData: DataHandler;
  onSent?: SentHandler;
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** Plain TCP when absent. */
  sockets?: StreamSockets;
}

const CRLF = Buffer.from('\r\n');

export class TcpTransport implements Transport {
  readonly protocol: 'tcp' | 'tls';
  readonly reliable = true;
  private server: Server | undefined;
  private bound: Endpoint;
  private readonly connections = new Map<string, Socket>();
  /** Connections being opened (a TLS handshake takes round trips): a second send waits for the same one. */
  private readonly opening = new Map<string, Promise<Socket>>();
  private readonly options: TcpTransportOptions;
  private readonly sockets: StreamSockets;

  constructor(options: TcpTransportOptions) {
    this.options = options;
    this.sockets = options.sockets ?? plainSockets;
    this.protocol = this.sockets.protocol;
    this.bound = { protocol: this.protocol, address: options.host, port: options.port };
  }

  get local(): Endpoint {
    return this.bound;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const server = this.sockets.server((socket) => this.adopt(socket));
    server.maxConnections = this.options.maxConnections ?? 10_000;
    this.server = server;
    try {
      await listenOn(server, this.options.host, this.options.port);
    } catch (err) {
      throw new TransportError('transport.listen', (err as Error).message, { cause: err });
    }
    const addr = server.address();
    if (addr && typeof addr === 'object') this.bound = { protocol: this.protocol, address: addr.address, port: addr.port };
    server.on('error', (err) => this.options.logger.warn({ err: err.message }, `${this.protocol} server error`));
  }

  private adopt(socket: Socket): string | undefined {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (!address || !port) {
      socket.destroy();
      return undefined;
    }
    const key = `${address}:${port}`;
    const certified = this.sockets.certifiedNode?.(socket);
    const source: Endpoint = { protocol: this.protocol, address, port, ...(certified !== undefined ? { certifiedNode: certified } : {}) };
    this.connections.set(key, socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 600_000, () => socket.destroy());
    // RFC 5626 §4.4.1: answer a CRLFCRLF keep-alive ping with one CRLF (pong).
    const framer = new SipStreamFramer({ onPing: () => socket.write(CRLF) });
    socket.on('data', (chunk) => {
      for (const message of framer.push(chunk)) this.options.onData(message, source, this);
      if (framer.error) {
        this.options.logger.info({ peer: key, reason: framer.error.message }, `closing ${this.protocol} connection: bad framing`);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.connections.get(key) === socket) this.connections.delete(key);
    });
    return key;
  }

  send(message: SipMessage, dest: Endpoint): Promise<void> {
    const data = serializeMessage(message);
    this.options.onSent?.(data, message, dest, this);
    return this.sendRaw(data, dest);
  }

  async sendRaw(data: Buffer, dest: Endpoint): Promise<void> {
    if (!this.server) throw new TransportError('transport.closed', `${this.protocol} transport is not running`);
    const key = `${dest.address}:${dest.port}`;
    const socket = this.connections.get(key) ?? (await this.opened(key, dest));
    await new Promise<void>((resolve, reject) => {
      socket.write(data, (err) => {
        if (err) reject(new TransportError('transport.send', `${this.protocol} send to ${dest.address}:${dest.port} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  private opened(key: string, dest: Endpoint): Promise<Socket> {
    let pending = this.opening.get(key);
    if (!pending) {
      pending = this.open(dest).finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  private async open(dest: Endpoint): Promise<Socket> {
    const socket = await this.sockets.connect(dest);
    if (!this.server) {
      socket.destroy();
      throw new TransportError('transport.closed', `${this.protocol} transport is not running`);
    }
    this.adopt(socket);
    return socket;
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
