/**
 * SIP over UDP (RFC 3261 §18): one datagram socket per listen address. Each datagram is one
 * message; delivery upward is raw bytes plus the source, parsing happens in the SIP endpoint.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { BindError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SipMessage } from '../message/sip-message.ts';
import { serializeMessage } from '../message/serialize-message.ts';
import { TransportError } from './errors.ts';
import type { Endpoint, Transport } from './transport.ts';

export type DataHandler = (data: Buffer, source: Endpoint, transport: Transport) => void;
/** Told each message as it is handed to the socket (the endpoint's traffic observers). */
export type SentHandler = (data: Buffer, message: SipMessage, dest: Endpoint, transport: Transport) => void;

export interface UdpTransportOptions {
  host: string;
  port: number;
  logger: Logger;
  onData: DataHandler;
  onSent?: SentHandler;
}

export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  private socket: Socket | undefined;
  private bound: Endpoint;
  private readonly options: UdpTransportOptions;
  /** Datagrams that could not be sent (counted, never thrown). */
  sendErrors = 0;

  constructor(options: UdpTransportOptions) {
    this.options = options;
    this.bound = { protocol: 'udp', address: options.host, port: options.port };
  }

  get local(): Endpoint {
    return this.bound;
  }

  start(): Promise<void> {
    const socket = createSocket({ type: isIPv6(this.options.host) ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        const bind = new BindError('udp', this.options.host, this.options.port, err);
        reject(new TransportError('transport.listen', bind.message, { cause: bind }));
      };
      socket.once('error', onError);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.options.logger.warn({ err: err.message }, 'udp socket error'));
        // Large buffers absorb bursts (registration storms after a power cut).
        try {
          socket.setRecvBufferSize(4 * 1024 * 1024);
          socket.setSendBufferSize(4 * 1024 * 1024);
        } catch {
          // the kernel may cap these; the defaults still work
        }
        const addr = socket.address();
        this.bound = { protocol: 'udp', address: addr.address, port: addr.port };
        socket.on('message', (data, rinfo) => {
          this.options.onData(data, { protocol: 'udp', address: rinfo.address, port: rinfo.port }, this);
        });
        resolve();
      });
    });
  }

  send(message: SipMessage, dest: Endpoint): Promise<void> {
    const data = serializeMessage(message);
    this.options.onSent?.(data, message, dest, this);
    return this.sendRaw(data, dest);
  }

  sendRaw(data: Buffer, dest: Endpoint): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new TransportError('transport.closed', 'udp transport is not running'));
    return new Promise((resolve, reject) => {
      socket.send(data, dest.port, dest.address, (err) => {
        if (!err) return resolve();
        this.sendErrors++;
        reject(new TransportError('transport.send', `udp send to ${dest.address}:${dest.port} failed: ${err.message}`, { cause: err }));
      });
    });
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
