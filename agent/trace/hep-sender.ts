/**
 * Sends HEP packets to the collector of `trace.hep.address` over UDP. Never blocks and never
 * throws into its caller (the SIP path): the host name is resolved once at start (again every
 * 30 s until it resolves), a packet that cannot be encoded or sent is dropped and counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { encodeHep, type HepPacket } from './hep-encoder.ts';

export interface HepSenderStats {
  sent: number;
  /** Packets not sent: not encodable, collector unresolved, or a socket error. */
  dropped: number;
}

export interface HepSenderOptions {
  host: string;
  port: number;
  clock: Clock;
  logger: Logger;
}

const RESOLVE_RETRY_MS = 30_000;

export class HepSender {
  readonly stats: HepSenderStats = { sent: 0, dropped: 0 };
  private socket: Socket | undefined;
  private address: string | undefined;
  private retry: TimerHandle | undefined;
  private stopped = false;
  private readonly onSent = (err: Error | null) => {
    if (err) this.dropped(err);
  };

  constructor(private readonly options: HepSenderOptions) {}

  async start(): Promise<void> {
    await this.resolve();
  }

  send(packet: HepPacket): void {
    const socket = this.socket;
    if (!socket || this.address === undefined) {
      this.stats.dropped++;
      return;
    }
    try {
      socket.send(encodeHep(packet), this.options.port, this.address, this.onSent);
      this.stats.sent++;
    } catch (err) {
      this.dropped(err as Error);
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  private dropped(err: Error): void {
    this.stats.dropped++;
    // One line per hundred drops at most: a dead collector must not flood the log.
    if (this.stats.dropped % 100 === 1) this.options.logger.warn({ err: err.message, dropped: this.stats.dropped }, 'hep packet dropped');
  }

  private async resolve(): Promise<void> {
    const { host } = this.options;
    let address: string;
    let family: number;
    try {
      if (isIP(host)) [address, family] = [host, isIP(host)];
      else ({ address, family } = await lookup(host));
    } catch (err) {
      this.options.logger.warn({ host, err: (err as Error).message }, 'hep collector not resolved; retrying in 30 s');
      if (!this.stopped) this.retry = this.options.clock.setTimeout(() => void this.resolve(), RESOLVE_RETRY_MS);
      return;
    }
    if (this.stopped) return;
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.on('error', (err) => this.dropped(err));
    socket.unref();
    this.socket = socket;
    this.address = address;
    this.options.logger.info({ collector: `${address}:${this.options.port}` }, 'hep export on');
  }
}
