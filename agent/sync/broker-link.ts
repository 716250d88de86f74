/**
 * One connection to one MQTT broker (the hub's, or a site peer's): connects and reconnects on
 * its own, subscribes its topics on every connect, publishes QoS 1 and counts unacknowledged
 * publishes so the sender can wait for room (backpressure). Speaks MQTT 3.1.1, which every
 * broker (aedes included) understands. The session is persistent (clean: false), so a broker
 * that stays up queues QoS 1 messages for a short disconnect; this side publishes nothing while
 * disconnected, and a receiver that missed batches asks for a catch-up when it sees the gap.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../lib/logger.ts';
import { SyncError } from './errors.ts';

export interface BrokerLinkOptions {
  /** What the link is for, in logs and status: `hub`, `self`, `peer:<id>`. */
  name: string;
  url: string;
  clientId: string;
  /** Published by the broker if the connection dies (the node's offline state). */
  will?: { topic: string; payload: Buffer };
  subscriptions: string[];
  onMessage: (topic: string, payload: Buffer, link: BrokerLink) => void;
  onConnect?: (link: BrokerLink) => void;
  onDisconnect?: (link: BrokerLink) => void;
  /** For `mqtts://`: key, cert, ca and the server check (link-tls.ts). */
  tls?: Record<string, unknown>;
  logger: Logger;
}

export class BrokerLink {
  readonly name: string;
  readonly url: string;
  private client: MqttClient | undefined;
  private readonly options: BrokerLinkOptions;
  private readonly waiters: Array<() => void> = [];
  private wasConnected = false;
  private stopped = false;
  inFlight = 0;
  published = 0;
  /** When the link last made progress: its last acknowledgement, or the publish that found nothing in flight. */
  private progressAt = 0;
  connectedSince: number | undefined;

  constructor(options: BrokerLinkOptions) {
    this.options = options;
    this.name = options.name;
    this.url = options.url;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(): void {
    this.stopped = false;
    const o = this.options;
    const client = mqtt.connect(o.url, {
      clientId: o.clientId,
      protocolVersion: 4,
      clean: false,
      keepalive: 10,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      queueQoSZero: false,
      resubscribe: false,
      ...(o.tls ?? {}),
      ...(o.will ? { will: { topic: o.will.topic, payload: o.will.payload, qos: 1 as const, retain: true } } : {}),
    });
    this.client = client;
    client.on('connect', () => {
      // Batches are small and latency matters more than packet count: no Nagle delay.
      const socket = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
      socket?.setNoDelay?.(true);
      this.wasConnected = true;
      this.connectedSince = Date.now();
      o.logger.info({ link: this.name, url: this.url }, 'broker connected');
      client.subscribe(o.subscriptions, { qos: 1 }, (err) => {
        if (err) o.logger.warn({ link: this.name, err: err.message }, 'subscribe failed');
        else o.onConnect?.(this);
      });
    });
    // Once stop() or abort() let go of the client, its closing is expected and not logged.
    const current = () => this.client === client;
    client.on('close', () => {
      if (this.connectedSince !== undefined) {
        this.connectedSince = undefined;
        if (current()) o.logger.warn({ link: this.name, url: this.url }, 'broker disconnected');
        this.releaseAll();
        o.onDisconnect?.(this);
      }
    });
    client.on('error', (err) => {
      if (current()) o.logger.debug({ link: this.name, err: err.message, everConnected: this.wasConnected }, 'broker connection error');
    });
    client.on('message', (topic, payload) => o.onMessage(topic, payload, this));
  }

  /** Publishes QoS 0, not retained (telemetry); false when not connected. Not counted in flight. */
  publishBestEffort(topic: string, payload: Buffer | string): boolean {
    const client = this.client;
    if (!client || !client.connected) return false;
    client.publish(topic, payload, { qos: 0, retain: false });
    return true;
  }

  /** Publishes QoS 1; resolves when the broker acknowledged, rejects if not connected. */
  publish(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    const client = this.client;
    if (!client || !client.connected) return Promise.reject(new SyncError('sync.connect', `${this.name}: not connected`));
    if (this.inFlight === 0) this.progressAt = Date.now();
    this.inFlight++;
    this.published++;
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        this.progressAt = Date.now();
        this.inFlight--;
        this.releaseOne();
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Resolves true when fewer than `max` publishes await their acknowledgement. Resolves false
   * when the link dropped, or when it is full and has had no acknowledgement for `stallMs`: a
   * broker gone silent while the connection still looks open (a cut cable, until the
   * keep-alive notices, up to 15 s). The caller then skips this link instead of holding back
   * its other links; the receivers behind it catch up later.
   */
  async waitForRoom(max: number, stallMs = Infinity): Promise<boolean> {
    while (this.connected && this.inFlight >= max) {
      const left = this.progressAt + stallMs - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = Number.isFinite(left)
          ? setTimeout(() => {
              const i = this.waiters.indexOf(wake);
              if (i >= 0) this.waiters.splice(i, 1);
              resolve();
            }, left)
          : undefined;
        this.waiters.push(wake);
      });
    }
    return this.connected;
  }


  private releaseOne(): void {
    this.waiters.shift()?.();
  }

  private releaseAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * New TLS options (a renewed certificate, docs/enrolment.md "Renewal"): a started link
   * disconnects cleanly (no will; its persistent session stays at the broker) and connects again
   * with them, announcing itself anew through onConnect. A link not started takes them at start().
   */
  async useTls(tls: Record<string, unknown>): Promise<void> {
    this.options.tls = tls;
    if (!this.client || this.stopped) return;
    this.options.logger.info({ link: this.name, url: this.url }, 'reconnecting with the renewed certificate');
    await this.close(1000);
    if (!this.stopped) this.start();
  }

  /**
   * Disconnects cleanly (the broker then sends no will: publish the offline state first). Waits
   * at most `graceMs` for in-flight publishes, then closes the socket regardless.
   */
  async stop(graceMs = 1000): Promise<void> {
    this.stopped = true;
    await this.close(graceMs);
  }

  private async close(graceMs: number): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.releaseAll();
    if (!client) return;
    const ended = new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([ended, late])) === 'late') {
      // The broker does not answer. A second end() while the first one waits is a no-op in
      // mqtt.js (the socket would stay open): drop the socket instead.
      const stream = client.stream;
      const closed = new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));
      stream.destroy();
      await closed;
    }
    clearTimeout(timer);
  }

  /** Publishes, but gives up waiting for the acknowledgement after `ms` (shutdown paths). */
  async publishWithin(topic: string, payload: Buffer | string, retain: boolean, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.publish(topic, payload, retain).catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** Closes the socket without DISCONNECT, so the broker publishes the will (tests, crashes). */
  async abort(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.releaseAll();
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}
